"""REST: the hub's devices with their health, and each device's points with their latest values."""

import time

from aiohttp import web

from hub.codec import device_json, iso, point_json, sample_json
from hub.core import Hub
from hub.http.errors import api_error
from hub.http.keys import HUB_KEY
from hub.points import Device

routes = web.RouteTableDef()


@routes.get("/api/devices")
async def list_devices(request: web.Request) -> web.Response:
    """Every registered device with its status, last_seen, error counts and integration."""
    hub = request.app[HUB_KEY]
    return web.json_response({"devices": [_device_summary(hub, device) for device in hub.points.devices()]})


@routes.get("/api/devices/{device_id}")
async def get_device(request: web.Request) -> web.Response:
    """One device's summary."""
    hub = request.app[HUB_KEY]
    return web.json_response(_device_summary(hub, _device(request)))


@routes.get("/api/devices/{device_id}/objects")
async def device_objects(request: web.Request) -> web.Response:
    """A device's points: how each is defined, its latest sample and whether that is stale."""
    registry = request.app[HUB_KEY].points
    device = _device(request)
    now = time.time()
    objects = [
        {**point_json(p), **sample_json(registry.latest(p.id)), "stale": registry.is_stale(p.id, now)}
        for p in registry.points(device.id)
    ]
    return web.json_response({"device_id": device.id, "objects": objects})


def _device(request: web.Request) -> Device:
    device_id = request.match_info["device_id"]
    try:
        return request.app[HUB_KEY].points.device(device_id)
    except KeyError:
        raise api_error(web.HTTPNotFound, f"unknown device {device_id!r}") from None


def _device_summary(hub: Hub, device: Device) -> dict[str, object]:
    state = hub.points.device_state(device.id)
    try:
        stats = hub.poller.device_stats(device.id)
    except KeyError:  # its integration is not polling it (yet)
        polling = None
    else:
        polling = {
            "cycles": stats.cycles,
            "reads": stats.reads,
            "read_errors": stats.read_errors,
            "consecutive_errors": stats.consecutive_errors,
            "retry_delay": stats.retry_delay,
        }
    return {
        **device_json(device),
        "status": str(state.status),
        "last_seen": iso(state.last_seen),
        "error_count": state.error_count,
        "last_error": state.last_error,
        "points": sum(1 for _ in hub.points.points(device.id)),
        "polling": polling,
    }
