"""Dashboard pages: the site overview, the device list (filtered with htmx) and a device's live points."""

import time
from dataclasses import dataclass

from aiohttp import web

from hub.core import Hub
from hub.health import ComponentHealth
from hub.http.keys import HUB_KEY
from hub.http.live import event_name
from hub.http.point_rows import format_age, point_row
from hub.http.templating import render
from hub.http.views_alarms_live import CARDS_REFRESH_S, status_cards
from hub.http.views_page import is_htmx, page
from hub.integration import PriorityArrayIntegration
from hub.points import Device, DeviceState, DeviceStatus

routes = web.RouteTableDef()


@dataclass(frozen=True)
class DeviceSummary:
    """One line of the device list."""

    device: Device
    state: DeviceState
    points: int
    last_seen_text: str


@routes.get("/")
async def overview(request: web.Request) -> web.Response:
    """Who this hub is, how long it has run, and the health of every component and integration."""
    hub = request.app[HUB_KEY]
    report = hub.health.report()
    components = dict(report.components)
    integrations = components.pop("integrations", ComponentHealth(report.status)).detail.get(
        "integrations", {}
    )
    return await page(
        request,
        "pages/overview.html",
        "/",
        hub=hub,
        identity=hub.identity if hub.started_at else None,
        uptime=format_age(time.monotonic() - hub.started_at) if hub.started_at else "not started",
        report=report,
        components=components,
        integrations=integrations,
        broker=components.get("broker"),
        bridge=components.get("bridge"),
        cards=status_cards(hub),
        format_age=format_age,
        refresh_s=CARDS_REFRESH_S,
    )


@routes.get("/devices")
async def device_list(request: web.Request) -> web.Response:
    """Every device with its status; `q`, `status` and `protocol` filter it (htmx asks for the rows only)."""
    hub = request.app[HUB_KEY]
    search = request.query.get("q", "").strip().lower()
    status = request.query.get("status", "")
    protocol = request.query.get("protocol", "")
    now = time.time()
    devices = [
        _summary(hub, device, now)
        for device in sorted(hub.points.devices(), key=lambda d: d.id)
        if (not search or search in device.id.lower() or search in device.name.lower())
        and (not protocol or device.domain == protocol)
        and (not status or str(hub.points.device_state(device.id).status) == status)
    ]
    if is_htmx(request):
        return await render(request, "fragments/device_rows.html", devices=devices)
    return await page(
        request,
        "pages/devices.html",
        "/devices",
        devices=devices,
        query={"q": search, "status": status, "protocol": protocol},
        statuses=[str(s) for s in DeviceStatus],
        protocols=sorted({device.domain for device in hub.points.devices()}),
    )


@routes.get("/devices/{device_id}", name="device_page")
async def device_page(request: web.Request) -> web.Response:
    """A device's points with live values (SSE), units, quality and freshness."""
    hub = request.app[HUB_KEY]
    try:
        device = hub.points.device(request.match_info["device_id"])
    except KeyError:
        return await page(request, "pages/not_found.html", "/devices", status=404, what="device")
    now = time.time()
    rows = [point_row(hub.points, point, now) for point in hub.points.points(device.id)]
    commandable = isinstance(hub.integrations.get(device.domain), PriorityArrayIntegration)
    return await page(
        request,
        "pages/device.html",
        "/devices",
        summary=_summary(hub, device, now),
        rows=rows,
        event_name=event_name,
        live_url=request.app.router["live_device"].url_for(device_id=device.id),
        commandable=[row.point for row in rows if row.point.writable] if commandable else [],
        added=hub.monitoring.get(device.id),  # added from discovery (it can be removed), or None
    )


def _summary(hub: Hub, device: Device, now: float) -> DeviceSummary:
    state = hub.points.device_state(device.id)
    seen = "never" if state.last_seen is None else f"{format_age(max(0.0, now - state.last_seen))} ago"
    return DeviceSummary(device, state, sum(1 for _ in hub.points.points(device.id)), seen)


@routes.get("/live/broker")
async def broker_page(request: web.Request) -> web.Response:
    """The hub's status topics, received in the browser by MQTT over WebSocket (vendored MQTT.js)."""
    prefix = request.app[HUB_KEY].identity.topic_prefix
    topics = [("Status", f"{prefix}status/update"), ("Heartbeat", f"{prefix}status/heartbeat")]
    return await page(request, "pages/broker.html", "/live/broker", topics=topics)
