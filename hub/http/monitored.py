"""REST: add a device discovery found to monitoring, list the added ones, remove one (hub.monitoring)."""

import voluptuous as vol
from aiohttp import web
from yarl import URL

from hub.codec import found_json, iso
from hub.config import each, string
from hub.http.errors import api_error
from hub.http.keys import HUB_KEY, USER_KEY
from hub.http.validation import read_body
from hub.monitoring import (
    BadPoints,
    MonitoredDevice,
    MonitoringError,
    MonitoringFailed,
    NotFound,
    NotMonitorable,
    NotMonitored,
    find_discovered,
)

routes = web.RouteTableDef()

_ADD = vol.Schema(
    {
        vol.Required("device_id"): string,
        vol.Optional("operation_id"): string,
        vol.Optional("points"): each(string),
    }
)
STATUS_OF: dict[type[MonitoringError], type[web.HTTPError]] = {  # the REST API's and the page's
    NotFound: web.HTTPNotFound,
    NotMonitored: web.HTTPNotFound,
    NotMonitorable: web.HTTPConflict,
    BadPoints: web.HTTPUnprocessableEntity,
    MonitoringFailed: web.HTTPBadGateway,
}


def monitored_json(device: MonitoredDevice) -> dict[str, object]:
    """An added device: what discovery found (the chosen points), and who added it from which scan."""
    return {
        **found_json(device.found),
        "all_points": device.all_points,
        "operation_id": device.operation_id,
        "added_by": device.added_by,
        "added_at": iso(device.added_at),
    }


@routes.get("/api/devices/monitored")
async def list_monitored(request: web.Request) -> web.Response:
    """The devices users added from discovery, oldest first (configured devices are not listed)."""
    devices = request.app[HUB_KEY].monitoring.devices()
    return web.json_response({"devices": [monitored_json(device) for device in devices]})


@routes.post("/api/devices/monitored")
async def add_monitored(request: web.Request) -> web.Response:
    """Add a discovered device (all its points, or `points`): polled from now on, also after restarts."""
    body = await read_body(request, _ADD)
    hub = request.app[HUB_KEY]
    points = body.get("points")
    try:
        found, operation_id = find_discovered(
            hub.discovery.operations(), body["device_id"], body.get("operation_id")
        )
        device = await hub.monitoring.add(found, points, operation_id, request[USER_KEY])
    except MonitoringError as err:
        raise api_error(STATUS_OF[type(err)], str(err)) from None
    location = URL("/api/devices") / device.id
    return web.json_response(monitored_json(device), status=201, headers={"Location": str(location)})


@routes.delete("/api/devices/monitored/{device_id}")
async def remove_monitored(request: web.Request) -> web.Response:
    """Stop monitoring a device a user added; answers with what was removed."""
    hub = request.app[HUB_KEY]
    try:
        device = await hub.monitoring.remove(request.match_info["device_id"], request[USER_KEY])
    except MonitoringError as err:
        raise api_error(STATUS_OF[type(err)], str(err)) from None
    return web.json_response(monitored_json(device))
