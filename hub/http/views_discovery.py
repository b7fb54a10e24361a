"""The discovery page: start a scan per integration with its options, follow its progress, see what it found.

The progress fragment polls itself (htmx, every POLL_MS) while the operation runs and stops polling
once it has ended; the operation lives in hub.discovery, so a reload or a second browser sees it too.
"""

import math
import re

from aiohttp import web
from multidict import MultiDictProxy

from hub.discovery import DiscoveryError, DiscoveryOperation, UnknownOperation
from hub.http.discovery import MAX_INSTANCE, MAX_TIMEOUT, MIN_TIMEOUT
from hub.http.keys import HUB_KEY
from hub.http.point_rows import format_time
from hub.http.templating import render
from hub.http.views_page import FormError, page
from hub.integration import DiscoveryRequest

routes = web.RouteTableDef()

POLL_MS = 300
ALL = "*"  # the form's choice for every loaded integration


@routes.get("/discovery")
async def discovery_page(request: web.Request) -> web.Response:
    """The scan form, the latest operation's progress and results, and the earlier operations."""
    hub = request.app[HUB_KEY]
    operations = hub.discovery.operations()
    chosen = request.query.get("operation")
    current = next((op for op in operations if op.id == chosen), operations[0] if operations else None)
    return await page(
        request,
        "pages/discovery.html",
        "/discovery",
        domains=sorted(hub.integrations.loaded()),
        all_choice=ALL,
        default_timeout=DiscoveryRequest.timeout,
        operation=current,
        operations=operations,
        monitored={device.id for device in hub.points.devices()},
        poll_ms=POLL_MS,
        format_time=format_time,
    )


@routes.post("/discovery/scan")
async def start_scan(request: web.Request) -> web.Response:
    """Start an operation from the form; answer with its progress fragment (which then polls itself)."""
    hub = request.app[HUB_KEY]
    data = await request.post()
    try:
        domains, discovery_request = parse_scan_form(data)
        operation_id = hub.discovery.start(domains, discovery_request)
    except (FormError, DiscoveryError) as err:
        return await render(request, "fragments/message.html", status=422, kind="error", text=str(err))
    return await _progress(request, hub.discovery.get(operation_id))


@routes.get("/discovery/operations/{operation_id}")
async def operation_fragment(request: web.Request) -> web.Response:
    """An operation's progress and results (an htmx fragment)."""
    try:
        operation = request.app[HUB_KEY].discovery.get(request.match_info["operation_id"])
    except UnknownOperation as err:
        return await render(request, "fragments/message.html", status=404, kind="error", text=str(err))
    return await _progress(request, operation)


async def _progress(request: web.Request, operation: DiscoveryOperation) -> web.Response:
    hub = request.app[HUB_KEY]
    return await render(
        request,
        "fragments/discovery_operation.html",
        operation=operation,
        monitored={device.id for device in hub.points.devices()},
        poll_ms=POLL_MS,
    )


def parse_scan_form(data: MultiDictProxy[object]) -> tuple[list[str] | None, DiscoveryRequest]:
    """The chosen integrations (None: all) and the request; FormError names a bad field."""
    choice = str(data.get("integration", ALL))
    low = _instance(data, "low_instance")
    high = _instance(data, "high_instance")
    if low is not None and high is not None and high < low:
        raise FormError("high_instance: must not be below low_instance")
    addresses = tuple(part for part in re.split(r"[\s,]+", str(data.get("addresses", ""))) if part)
    timeout_text = str(data.get("timeout", "")).strip()
    timeout = DiscoveryRequest.timeout
    if timeout_text:
        try:
            timeout = float(timeout_text)
        except ValueError:
            timeout = math.nan
        if not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
            raise FormError(
                f"timeout: expected seconds from {MIN_TIMEOUT} to {MAX_TIMEOUT:g}, got {timeout_text!r}"
            )
    return (None if choice == ALL else [choice]), DiscoveryRequest(low, high, addresses, timeout)


def _instance(data: MultiDictProxy[object], name: str) -> int | None:
    text = str(data.get(name, "")).strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > MAX_INSTANCE:
        raise FormError(f"{name}: expected a device instance from 0 to {MAX_INSTANCE}, got {text!r}")
    return int(text)
