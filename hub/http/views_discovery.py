"""The discovery page: start a scan per integration with its options, follow its progress, see what it found.

The progress fragment polls itself (htmx, every POLL_MS) while the operation runs and stops polling
once it has ended; the operation lives in hub.discovery, so a reload or a second browser sees it too.
Each device found can be added to monitoring (all its points or some) and removed again
(hub.monitoring); a device that cannot be added says why.
"""

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlencode

from aiohttp import web
from multidict import MultiDictProxy

from hub.core import Hub
from hub.discovery import DiscoveryError, DiscoveryOperation, UnknownOperation
from hub.http.discovery import MAX_INSTANCE, MAX_TIMEOUT, MIN_TIMEOUT
from hub.http.keys import HUB_KEY, USER_KEY
from hub.http.monitored import STATUS_OF
from hub.http.point_rows import format_time
from hub.http.templating import render
from hub.http.views_page import FormError, page
from hub.integration import DiscoveredDevice, DiscoveryRequest
from hub.monitoring import MonitoringError, NotMonitored, find_discovered

routes = web.RouteTableDef()

POLL_MS = 300
ALL = "*"  # the form's choice for every loaded integration


class Monitoring(StrEnum):
    """Where a device found stands with monitoring, as its row shows it."""

    ADDED = "added"  # a user added it from discovery: it can be removed
    CONFIGURED = "configured"  # the config (or the integration itself) monitors it
    ADDABLE = "addable"
    REFUSED = "refused"  # it cannot be added; `reason` says why


@dataclass(frozen=True)
class FoundRow:
    """One device of the results table and its monitoring state."""

    found: DiscoveredDevice
    monitoring: Monitoring
    reason: str = ""
    added_by: str = ""


def found_rows(hub: Hub, operation: DiscoveryOperation) -> list[FoundRow]:
    """The operation's devices, each with whether it is monitored, can be added, or why not."""
    registered = {device.id for device in hub.points.devices()}
    rows = []
    for found in operation.devices:
        added = hub.monitoring.get(found.device.id)
        if added is not None:
            rows.append(FoundRow(found, Monitoring.ADDED, added_by=added.added_by))
        elif found.device.id in registered:
            rows.append(FoundRow(found, Monitoring.CONFIGURED))
        else:
            problem = hub.monitoring.problem(found)
            state = Monitoring.ADDABLE if problem is None else Monitoring.REFUSED
            rows.append(FoundRow(found, state, problem or ""))
    return rows


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
        rows=found_rows(hub, current) if current else [],
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
        rows=found_rows(hub, operation),
        poll_ms=POLL_MS,
    )


@routes.post("/discovery/monitor")
async def add_to_monitoring(request: web.Request) -> web.Response:
    """Add a device found to monitoring with the ticked points (all ticked: all), then show its page."""
    hub = request.app[HUB_KEY]
    data = await request.post()
    try:
        found, operation_id = find_discovered(
            hub.discovery.operations(),
            str(data.get("device_id", "")),
            str(data.get("operation_id", "")) or None,
        )
        ticked = [str(point_id) for point_id in data.getall("points", [])]
        everything = set(ticked) == {point.id for point in found.points}
        device = await hub.monitoring.add(
            found, None if everything else ticked, operation_id, request[USER_KEY]
        )
    except MonitoringError as err:
        status = STATUS_OF[type(err)].status_code
        return await render(request, "fragments/message.html", status=status, kind="error", text=str(err))
    return web.Response(headers={"HX-Redirect": f"/devices/{quote(device.id, safe='')}"})


@routes.post("/discovery/unmonitor")
async def remove_from_monitoring(request: web.Request) -> web.Response:
    """Stop monitoring a device a user added, then show the scan that found it."""
    hub = request.app[HUB_KEY]
    data = await request.post()
    try:
        device = await hub.monitoring.remove(str(data.get("device_id", "")), request[USER_KEY])
    except NotMonitored as err:
        return await render(request, "fragments/message.html", status=404, kind="error", text=str(err))
    kept = {operation.id for operation in hub.discovery.operations()}
    query = f"?{urlencode({'operation': device.operation_id})}" if device.operation_id in kept else ""
    return web.Response(headers={"HX-Redirect": f"/discovery{query}"})


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
