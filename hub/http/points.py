"""REST: read points now, write them through the command service, and their latest values.

`GET /api/points/live` and `GET /api/data/latest` take the same filters: `?device=a,b` (points of
these devices) and `?points=x,y` (these points); both given means points matching either.
"""

import time
from collections.abc import Iterable

import voluptuous as vol
from aiohttp import web

from hub.codec import iso, json_value, sample_json
from hub.commands import (
    MAX_PRIORITY,
    MIN_PRIORITY,
    Refusal,
    WriteOutcome,
    WriteRequest,
    WriteResult,
    WriteSource,
)
from hub.config import boolean, each, integer, string
from hub.http.errors import api_error
from hub.http.keys import HUB_KEY, USER_KEY
from hub.http.validation import non_empty, read_body
from hub.integration import DEFAULT_PRIORITY, DeviceError, PriorityArrayIntegration
from hub.points import Point, PointRegistry, Quality

routes = web.RouteTableDef()

_READ = vol.Schema({vol.Required("point_ids"): vol.All(each(string), non_empty("point id"))})


def _value(value: object) -> object:
    if value is not None and not isinstance(value, bool | int | float | str):
        raise vol.Invalid("expected a number, true/false, a string or null (relinquish)")
    return value


_WRITE = vol.Schema(
    {
        vol.Required("point_id"): string,
        vol.Required("value"): _value,
        vol.Optional("priority", default=DEFAULT_PRIORITY): integer(MIN_PRIORITY, MAX_PRIORITY),
        vol.Optional("dry_run", default=False): boolean,
    }
)
_WRITE_STATUS = {WriteOutcome.WRITTEN: 200, WriteOutcome.DRY_RUN: 200, WriteOutcome.FAILED: 502}
# A refusal: the field at fault (named in `error`) and the status that says what to do about it.
_REFUSAL = {
    Refusal.UNKNOWN_POINT: ("point_id", 404),
    Refusal.BAD_VALUE: ("value", 422),
    Refusal.BAD_PRIORITY: ("priority", 422),
    Refusal.NOT_WRITABLE: ("point_id", 409),
    Refusal.NOT_LOADED: ("point_id", 409),
    Refusal.RATE_LIMITED: ("point_id", 429),
}


@routes.post("/api/points/read")
async def read_points(request: web.Request) -> web.Response:
    """Read points from their devices now (not the cached values); failures come back as bad samples."""
    body = await read_body(request, _READ)
    hub = request.app[HUB_KEY]
    _known_points(hub.points, body["point_ids"])
    samples = await hub.poller.read_now(body["point_ids"])
    return web.json_response({"samples": {point_id: sample_json(s) for point_id, s in samples.items()}})


@routes.post("/api/points/write")
async def write_point(request: web.Request) -> web.Response:
    """Write through the command service as the authenticated user (refusals are audited there too)."""
    body = await read_body(request, _WRITE)
    hub = request.app[HUB_KEY]
    result = await hub.commands.write(
        WriteRequest(
            body["point_id"],
            body["value"],
            body["priority"],
            actor=request[USER_KEY],
            source=WriteSource.REST,
            dry_run=body["dry_run"],
        )
    )
    answer = {
        "outcome": str(result.outcome),
        "point_id": result.point_id,
        "old": json_value(result.old),
        "new": json_value(result.new),
        "priority": result.priority,
        "reason": result.reason,
        "verified": result.verified,
        "refusal": result.refusal and str(result.refusal),
    }
    return web.json_response(answer, status=_write_status(result, answer))


def _write_status(result: WriteResult, answer: dict[str, object]) -> int:
    """200, 502 for a device failure, or the refusal's status with `error` naming the field at fault."""
    if result.refusal is None:
        return _WRITE_STATUS[result.outcome]
    field, status = _REFUSAL[result.refusal]
    answer["error"] = f"{field}: {result.reason}"
    return status


@routes.get("/api/points/live")
async def live_points(request: web.Request) -> web.Response:
    """The latest sample of every (selected) point, with its stale flag."""
    registry = request.app[HUB_KEY].points
    now = time.time()
    points = [
        {
            "point_id": point.id,
            "device_id": point.device_id,
            **sample_json(registry.latest(point.id)),
            "stale": registry.is_stale(point.id, now),
        }
        for point in _selected(request, registry)
    ]
    return web.json_response({"timestamp": iso(now), "points": points})


@routes.get("/api/data/latest")
async def latest_data(request: web.Request) -> web.Response:
    """Compact latest values for dashboards: `values` by point id, and `problems` for the doubtful ones."""
    registry = request.app[HUB_KEY].points
    now = time.time()
    values: dict[str, object] = {}
    problems: dict[str, object] = {}
    for point in _selected(request, registry):
        sample = registry.latest(point.id)
        if sample is None:
            values[point.id] = None
            problems[point.id] = {"quality": None, "reason": "no value yet", "stale": True}
            continue
        stale = registry.is_stale(point.id, now)
        values[point.id] = None if sample.quality == Quality.BAD else json_value(sample.value)
        if sample.quality != Quality.GOOD or stale:
            problems[point.id] = {"quality": str(sample.quality), "reason": sample.reason, "stale": stale}
    return web.json_response({"timestamp": iso(now), "values": values, "problems": problems})


@routes.get("/api/points/{point_id}/priority")
async def point_priority(request: web.Request) -> web.Response:
    """Who holds which of a commandable point's 16 priority slots, read from its device now."""
    hub = request.app[HUB_KEY]
    point_id = request.match_info["point_id"]
    _known_points(hub.points, [point_id])
    domain = hub.points.device(hub.points.point(point_id).device_id).domain
    integration = hub.integrations.get(domain)
    if not isinstance(integration, PriorityArrayIntegration):
        reason = "is not loaded" if integration is None else "has no priority arrays"
        raise api_error(web.HTTPConflict, f"point {point_id!r}: integration {domain!r} {reason}")
    try:
        array = await integration.priority_array(point_id)
    except DeviceError as err:
        raise api_error(web.HTTPBadGateway, f"device did not answer: {err}") from None
    if array is None:
        raise api_error(web.HTTPConflict, f"point {point_id!r} has no priority array")
    slots = [{"priority": index, "value": json_value(v)} for index, v in enumerate(array.slots, start=1)]
    return web.json_response(
        {"point_id": point_id, "slots": slots, "relinquish_default": json_value(array.relinquish_default)}
    )


def _known_points(registry: PointRegistry, point_ids: Iterable[str]) -> None:
    """404 naming every unknown point id."""
    unknown = [point_id for point_id in point_ids if not _has_point(registry, point_id)]
    if unknown:
        raise api_error(web.HTTPNotFound, f"unknown points: {', '.join(map(repr, unknown))}")


def _has_point(registry: PointRegistry, point_id: str) -> bool:
    try:
        registry.point(point_id)
    except KeyError:
        return False
    return True


def _selected(request: web.Request, registry: PointRegistry) -> list[Point]:
    """The points the `device` and `points` query filters select (all without filters); 404 on unknown ids."""
    devices = _query_list(request, "device")
    point_ids = _query_list(request, "points")
    if not devices and not point_ids:
        return list(registry.points())
    known = {device.id for device in registry.devices()}
    unknown_devices = [device_id for device_id in devices if device_id not in known]
    if unknown_devices:
        raise api_error(web.HTTPNotFound, f"unknown devices: {', '.join(map(repr, unknown_devices))}")
    _known_points(registry, point_ids)
    chosen = set(point_ids)
    wanted = set(devices)
    return [point for point in registry.points() if point.id in chosen or point.device_id in wanted]


def _query_list(request: web.Request, name: str) -> list[str]:
    """A filter given as `?name=a,b` and/or repeated `?name=a&name=b`."""
    return [item for value in request.query.getall(name, []) for item in value.split(",") if item]
