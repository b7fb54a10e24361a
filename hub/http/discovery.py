"""REST: start, follow and cancel device discovery (hub.discovery does the work)."""

import voluptuous as vol
from aiohttp import web

from hub.codec import operation_json
from hub.config import each, integer, seconds, string
from hub.discovery import (
    DiscoveryBusy,
    DiscoveryError,
    DiscoveryOperation,
    UnknownIntegration,
    UnknownOperation,
)
from hub.http.errors import api_error
from hub.http.keys import HUB_KEY
from hub.http.validation import non_empty, read_body
from hub.integration import DiscoveryRequest

routes = web.RouteTableDef()

MAX_INSTANCE = 4_194_303  # the largest BACnet device instance
MIN_TIMEOUT, MAX_TIMEOUT = 0.1, 3600.0

_START = vol.Schema(
    {
        vol.Optional("integrations"): vol.All(each(string), non_empty("integration")),
        vol.Optional("low_instance"): integer(0, MAX_INSTANCE),
        vol.Optional("high_instance"): integer(0, MAX_INSTANCE),
        vol.Optional("addresses", default=[]): each(string),
        vol.Optional("timeout", default=DiscoveryRequest.timeout): seconds(MIN_TIMEOUT, MAX_TIMEOUT),
    }
)


@routes.post("/api/devices/discover")
async def start_discovery(request: web.Request) -> web.Response:
    """Start discovering with the named integrations (default: all loaded); 202 and the operation."""
    body = await read_body(request, _START)
    low, high = body.get("low_instance"), body.get("high_instance")
    if low is not None and high is not None and high < low:
        raise api_error(web.HTTPUnprocessableEntity, "high_instance: must not be below low_instance")
    discovery = request.app[HUB_KEY].discovery
    discovery_request = DiscoveryRequest(low, high, body["addresses"], body["timeout"])
    try:
        operation_id = discovery.start(body.get("integrations"), discovery_request)
    except UnknownIntegration as err:
        raise api_error(web.HTTPUnprocessableEntity, f"integrations: {err}") from None
    except DiscoveryBusy as err:
        raise api_error(web.HTTPConflict, str(err)) from None
    except DiscoveryError as err:
        raise api_error(web.HTTPServiceUnavailable, str(err)) from None
    location = request.app.router["discovery_operation"].url_for(operation_id=operation_id)
    return web.json_response(
        operation_json(discovery.get(operation_id)), status=202, headers={"Location": str(location)}
    )


@routes.get("/api/devices/discover")
async def list_discoveries(request: web.Request) -> web.Response:
    """The running and kept operations, newest first, without their devices."""
    operations = request.app[HUB_KEY].discovery.operations()
    return web.json_response({"operations": [operation_json(op, with_devices=False) for op in operations]})


@routes.get("/api/devices/discover/{operation_id}", name="discovery_operation")
async def get_discovery(request: web.Request) -> web.Response:
    """One operation: its progress and the devices found so far."""
    return web.json_response(operation_json(_operation(request)))


@routes.post("/api/devices/discover/{operation_id}/cancel")
async def cancel_discovery(request: web.Request) -> web.Response:
    """Cancel an operation (keeping what it found) and answer once it has ended."""
    operation = _operation(request)
    return web.json_response(operation_json(await request.app[HUB_KEY].discovery.cancel(operation.id)))


def _operation(request: web.Request) -> DiscoveryOperation:
    try:
        return request.app[HUB_KEY].discovery.get(request.match_info["operation_id"])
    except UnknownOperation as err:
        raise api_error(web.HTTPNotFound, str(err)) from None
