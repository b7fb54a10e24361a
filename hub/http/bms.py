"""REST for external BMS connections: CRUD, credentials, mappings, unmapped points, activity, stats, test.

Reads need `viewer`; mappings and the test button `operator`; connections and credentials `admin`
(hub.http.auth_rules). A password appears only in the answers of create, reveal and regenerate.
"""

from enum import StrEnum

import voluptuous as vol
from aiohttp import web

from hub.bms.activity import ActivityFilter
from hub.bms.mapping import name_problem
from hub.bms.mapping_plan import MappingProblem, changed_mapping, new_mapping
from hub.bms.model import BmsType, Connection, EventType, Mapping, Severity, Transport
from hub.bms.payload import MAX_ID_LENGTH
from hub.bms.service import BmsConnections, Conflict, ConnectionChanges, NotFound
from hub.http import bms_json, params
from hub.http.errors import api_error
from hub.http.keys import HUB_KEY, USER_KEY
from hub.http.validation import read_body
from hub.points import Point, PointKind

routes = web.RouteTableDef()

_BASE = "/api/bms/connections"
_ONE = _BASE + "/{connection_id}"
_ACTIVITY_PARAMETERS = frozenset({"type", "severity", "from", "to", "limit", "offset"})


def _choice(kind: type[StrEnum]) -> vol.All:
    return vol.All(vol.In(list(kind), msg=f"expected one of {', '.join(kind)}"), vol.Coerce(kind))


_NAME = vol.All(str, vol.Length(min=1, max=100))
_DESCRIPTION = vol.All(str, vol.Length(max=2000))
_UNIT = vol.All(str, vol.Length(max=32))
_CREATE = vol.Schema(
    {
        vol.Required("name"): _NAME,
        vol.Optional("bms_type", default=BmsType.GENERIC.value): _choice(BmsType),
        vol.Optional("transport", default=Transport.WEBSOCKET.value): _choice(Transport),
        vol.Optional("description", default=""): _DESCRIPTION,
    }
)
_PATCH = vol.Schema(
    {
        vol.Optional("name"): _NAME,
        vol.Optional("bms_type"): _choice(BmsType),
        vol.Optional("transport"): _choice(Transport),
        vol.Optional("description"): _DESCRIPTION,
        vol.Optional("enabled"): bool,
    }
)


def _point_name(value: object) -> str:
    problem = name_problem(value) if isinstance(value, str) else "expected a string"
    if problem:
        raise vol.Invalid(problem)
    return str(value)


_MAP = vol.Schema(
    {
        vol.Required("external_id"): vol.All(str, vol.Length(min=1, max=MAX_ID_LENGTH)),
        vol.Exclusive("point_id", "target"): vol.All(str, vol.Length(min=1)),
        vol.Exclusive("new_point", "target"): {
            vol.Optional("name"): _point_name,
            vol.Optional("units"): _UNIT,
            vol.Optional("kind"): _choice(PointKind),
        },
        vol.Optional("source_unit"): _UNIT,
    }
)
_MAP_CHANGE = vol.Schema(
    {
        vol.Optional("point_id"): vol.All(str, vol.Length(min=1)),
        vol.Optional("source_unit"): _UNIT,
        vol.Optional("units"): _UNIT,
    }
)
_TEST = vol.Schema(
    {
        vol.Optional("point_id", default="bms-hub-test"): vol.All(str, vol.Length(min=1, max=MAX_ID_LENGTH)),
        vol.Optional("value", default=1): vol.Any(None, bool, int, float, str),
    }
)


def _service(request: web.Request) -> BmsConnections:
    return request.app[HUB_KEY].bms


def _connection(request: web.Request) -> Connection:
    connection_id = request.match_info["connection_id"]
    try:
        return _service(request).get(connection_id)
    except NotFound:
        raise api_error(web.HTTPNotFound, f"no BMS connection {connection_id!r}") from None


def _mapping(request: web.Request, connection: Connection) -> Mapping:
    text = request.match_info["mapping_id"]
    number = params.natural(text)
    mapping = None if number is None else _service(request).mappings.by_id(connection.id, number)
    if mapping is None:
        raise api_error(web.HTTPNotFound, f"no mapping {text!r} in connection {connection.id!r}")
    return mapping


# -- connections ------------------------------------------------------------------------------


@routes.get(_BASE)
async def list_connections(request: web.Request) -> web.Response:
    return web.json_response(
        {"connections": [bms_json.connection_json(request, c) for c in _service(request).connections()]}
    )


@routes.post(_BASE)
async def create_connection(request: web.Request) -> web.Response:
    """A new connection; the answer holds its password, which is shown only here (and to admins on reveal)."""
    body = await read_body(request, _CREATE)
    connection, password = await _service(request).create(
        body["name"], body["bms_type"], body["transport"], body["description"], request[USER_KEY]
    )
    answer = bms_json.connection_json(request, connection)
    answer["credentials"] = bms_json.credentials(request, connection, password)
    return web.json_response(answer, status=201)


@routes.get(_ONE)
async def get_connection(request: web.Request) -> web.Response:
    return web.json_response(bms_json.connection_json(request, _connection(request)))


@routes.patch(_ONE)
async def update_connection(request: web.Request) -> web.Response:
    """Rename, retype, describe, enable or disable (disabling drops the BMS's session)."""
    body = await read_body(request, _PATCH)
    connection = _connection(request)
    updated = await _service(request).update(connection.id, ConnectionChanges(**body), request[USER_KEY])
    return web.json_response(bms_json.connection_json(request, updated))


@routes.delete(_ONE)
async def delete_connection(request: web.Request) -> web.Response:
    connection = _connection(request)
    await _service(request).delete(connection.id, request[USER_KEY])
    return web.json_response({"deleted": connection.id})


@routes.post(_ONE + "/credentials/reveal")
async def reveal_credentials(request: web.Request) -> web.Response:
    """The current password (admins); the reveal is recorded in the connection's log and the audit log."""
    connection = _connection(request)
    password = _service(request).reveal(connection.id, request[USER_KEY])
    return web.json_response(bms_json.credentials(request, connection, password))


@routes.post(_ONE + "/credentials/regenerate")
async def regenerate_credentials(request: web.Request) -> web.Response:
    """A new password; the old one is refused from now on and sessions that used it are closed."""
    connection, password = await _service(request).regenerate(_connection(request).id, request[USER_KEY])
    return web.json_response(bms_json.credentials(request, connection, password))


@routes.get(_ONE + "/stats")
async def connection_stats(request: web.Request) -> web.Response:
    connection = _connection(request)
    return web.json_response(bms_json.stats_json(_service(request).stats_of(connection.id).view()))


@routes.get(_ONE + "/activity")
async def connection_activity(request: web.Request) -> web.Response:
    """Filter by type, severity and time range (`from` inclusive, `to` exclusive); newest first, paged."""
    params.refuse_unknown(request, _ACTIVITY_PARAMETERS)
    limit, offset = params.page(request)
    wanted = ActivityFilter(
        types=params.choices(request, "type", EventType),
        severities=params.choices(request, "severity", Severity),
        since=params.time_param(request, "from"),
        until=params.time_param(request, "to"),
        limit=limit,
        offset=offset,
    )
    entries, total = await _service(request).log(_connection(request).id, wanted)
    return web.json_response(
        {
            "entries": [bms_json.entry_json(e) for e in entries],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


@routes.post(_ONE + "/test")
async def test_connection(request: web.Request) -> web.Response:
    """Publish a test reading through the broker as the BMS would; report whether it arrived and where."""
    body = await read_body(request, _TEST)
    outcome = _service(request).test(_connection(request).id, body["point_id"], body["value"])
    return web.json_response(bms_json.outcome_json(outcome))


# -- mappings ---------------------------------------------------------------------------------


@routes.get(_ONE + "/mappings")
async def list_mappings(request: web.Request) -> web.Response:
    connection = _connection(request)
    return web.json_response(
        {"mappings": [bms_json.mapping_json(m) for m in _service(request).mappings.of(connection.id)]}
    )


@routes.get(_ONE + "/unmapped")
async def list_unmapped(request: web.Request) -> web.Response:
    connection = _connection(request)
    return web.json_response(
        {"unmapped": [bms_json.unmapped_json(u) for u in _service(request).mappings.unmapped(connection.id)]}
    )


@routes.post(_ONE + "/mappings")
async def add_mapping(request: web.Request) -> web.Response:
    """Map an external id to an existing point (`point_id`) or a new one (`new_point`, the default).

    With only `external_id`, an unmapped point is mapped in one click: a new point named after it,
    in the unit it was last sent in.
    """
    body = await read_body(request, _MAP)
    connection = _connection(request)
    service = _service(request)
    spec = body.get("new_point", {})
    try:
        mapping = new_mapping(
            connection,
            body["external_id"],
            service.mappings.unmapped_entry(connection.id, body["external_id"]),
            existing=_existing_point(request, body["point_id"]) if "point_id" in body else None,
            name=spec.get("name"),
            units=spec.get("units"),
            kind=spec.get("kind"),
            source_unit=body.get("source_unit"),
        )
    except MappingProblem as err:
        raise api_error(web.HTTPUnprocessableEntity, str(err)) from None
    try:
        saved = await service.add_mapping(mapping, request[USER_KEY])
    except Conflict as err:
        raise api_error(web.HTTPConflict, err.message) from None
    return web.json_response(bms_json.mapping_json(saved), status=201)


@routes.patch(_ONE + "/mappings/{mapping_id}")
async def update_mapping(request: web.Request) -> web.Response:
    """Change the source unit, a created point's units, or which existing point an attached mapping feeds."""
    body = await read_body(request, _MAP_CHANGE)
    connection = _connection(request)
    mapping = _mapping(request, connection)
    try:
        changed = changed_mapping(
            mapping,
            source_unit=body.get("source_unit"),
            units=body.get("units"),
            existing=_existing_point(request, body["point_id"]) if "point_id" in body else None,
        )
    except MappingProblem as err:
        raise api_error(web.HTTPUnprocessableEntity, str(err)) from None
    updated = await _service(request).update_mapping(changed, request[USER_KEY])
    return web.json_response(bms_json.mapping_json(updated))


@routes.delete(_ONE + "/mappings/{mapping_id}")
async def delete_mapping(request: web.Request) -> web.Response:
    """Unmap; a point created for the mapping leaves the registry (its stored history stays)."""
    connection = _connection(request)
    mapping = _mapping(request, connection)
    await _service(request).delete_mapping(mapping, request[USER_KEY])
    return web.json_response({"deleted": mapping.id})


def _existing_point(request: web.Request, point_id: str) -> Point:
    try:
        return request.app[HUB_KEY].points.point(point_id)
    except KeyError:
        raise api_error(web.HTTPUnprocessableEntity, f"point_id: no point {point_id!r}") from None
