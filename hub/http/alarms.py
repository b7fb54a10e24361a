"""REST for the alarm console: list, counts, one alarm with its history, and the operator's actions."""

from collections.abc import Callable

import voluptuous as vol
from aiohttp import web

from hub.alarms.listing import AlarmQuery, SortKey, counts, select
from hub.alarms.model import Alarm, AlarmState, Severity, SourceKind
from hub.alarms.service import AlarmService, UnknownAlarm
from hub.http import params
from hub.http.errors import api_error
from hub.http.keys import HUB_KEY, USER_KEY
from hub.http.validation import read_body

routes = web.RouteTableDef()

_LIST_PARAMETERS = frozenset(
    {"state", "severity", "source", "subject", "point", "shelved", "sort", "order", "limit", "offset"}
)
_COMMENT = vol.Schema({vol.Optional("comment"): vol.All(str, vol.Length(max=2000))})
_MAX_SHELVE_S = 30 * 86400.0

Action = Callable[[AlarmService, str, str], Alarm]  # (service, alarm id, user) -> the alarm after it


def _service(request: web.Request) -> AlarmService:
    return request.app[HUB_KEY].alarms


@routes.get("/api/alarms")
async def list_alarms(request: web.Request) -> web.Response:
    """Filter by state, severity, source and subject (point/device/flow), sort, page."""
    params.refuse_unknown(request, _LIST_PARAMETERS)
    limit, offset = params.page(request)
    order = request.query.get("order", "asc")
    if order not in ("asc", "desc"):
        raise params.bad("order", f"expected asc or desc, got {order!r}")
    query = AlarmQuery(
        states=params.choices(request, "state", AlarmState),
        severities=params.choices(request, "severity", Severity),
        sources=params.choices(request, "source", SourceKind),
        subjects=frozenset(params.texts(request, "subject") + params.texts(request, "point")),
        shelved=params.flag(request, "shelved"),
        sort=params.choice(request, "sort", SortKey, SortKey.SEVERITY),
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )
    service = _service(request)
    now = service.now()
    found, total = select(service.alarms(), query, now)
    return web.json_response({"total": total, "alarms": [alarm.as_json(now) for alarm in found]})


@routes.get("/api/alarms/counts")
async def alarm_counts(request: web.Request) -> web.Response:
    """Figures for the site header."""
    service = _service(request)
    return web.json_response(counts(service.alarms(), service.now()))


@routes.get("/api/alarms/{alarm_id}")
async def get_alarm(request: web.Request) -> web.Response:
    """One alarm and every transition it went through, oldest first."""
    service = _service(request)
    alarm = _alarm(service, request.match_info["alarm_id"])
    history = await service.history(alarm.id)
    return web.json_response({**alarm.as_json(service.now()), "history": [e.as_json() for e in history]})


@routes.post("/api/alarms/{alarm_id}/acknowledge")
async def acknowledge(request: web.Request) -> web.Response:
    body = await read_body(request, _COMMENT)
    return _answer(request, lambda s, a, user: s.acknowledge(a, user, body.get("comment", "")))


@routes.post("/api/alarms/{alarm_id}/resolve")
async def resolve(request: web.Request) -> web.Response:
    body = await read_body(request, _COMMENT)
    return _answer(request, lambda s, a, user: s.resolve(a, user, body.get("comment", "")))


@routes.post("/api/alarms/{alarm_id}/shelve")
async def shelve(request: web.Request) -> web.Response:
    """Silence notifications until `until` (ISO 8601 or epoch seconds) or for `duration` seconds."""
    body = await read_body(request, _SHELVE)
    service = _service(request)
    now = service.now()
    if ("until" in body) == ("duration" in body):
        raise api_error(web.HTTPUnprocessableEntity, "until: give either `until` or `duration`")
    until = body["until"] if "until" in body else now + body["duration"]
    if not now < until <= now + _MAX_SHELVE_S:
        raise api_error(web.HTTPUnprocessableEntity, "until: expected a time in the next 30 days")
    return _answer(request, lambda s, a, user: s.shelve(a, until, body["reason"], user))


@routes.post("/api/alarms/{alarm_id}/unshelve")
async def unshelve(request: web.Request) -> web.Response:
    await read_body(request, vol.Schema({}))
    return _answer(request, lambda s, a, user: s.unshelve(a, user))


def _until(value: object) -> float:
    """A JSON time: ISO 8601 text or epoch seconds."""
    try:
        if isinstance(value, str):
            return params.moment(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return params.moment(str(value))
    except ValueError:
        pass
    raise vol.Invalid(params.TIME_EXPECTED)


_SHELVE = vol.Schema(
    {
        vol.Required("reason"): vol.All(str, vol.Length(min=1, max=2000)),
        vol.Optional("until"): _until,
        vol.Optional("duration"): vol.All(vol.Any(int, float), vol.Range(min=1, max=_MAX_SHELVE_S)),
    }
)


def _alarm(service: AlarmService, alarm_id: str) -> Alarm:
    alarm = service.get(alarm_id)
    if alarm is None:
        raise api_error(web.HTTPNotFound, f"no alarm {alarm_id!r}")
    return alarm


def _answer(request: web.Request, action: Action) -> web.Response:
    """Apply an operator's action as the request's user; the alarm after it is the answer."""
    service = _service(request)
    alarm_id = request.match_info["alarm_id"]
    try:
        alarm = action(service, alarm_id, request[USER_KEY])
    except UnknownAlarm:
        raise api_error(web.HTTPNotFound, f"no alarm {alarm_id!r}") from None
    return web.json_response(alarm.as_json(service.now()))
