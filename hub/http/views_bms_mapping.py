"""The BMS page's mapping dialog: mapped points (edit, delete) and unmapped ones (map in one click).

A mapping is made by hub.bms.mapping_plan, as the REST API makes it; each action answers with the
whole dialog again, with a message saying what happened (or which field was wrong).
"""

import time
from dataclasses import dataclass

from aiohttp import web
from multidict import MultiDictProxy

from hub.bms.mapping import name_problem
from hub.bms.mapping_plan import MappingProblem, changed_mapping, new_mapping
from hub.bms.model import Connection, Mapping
from hub.bms.service import Conflict
from hub.http.keys import HUB_KEY, USER_KEY
from hub.http.params import natural
from hub.http.point_rows import PointRow, format_age, point_row
from hub.http.templating import render
from hub.http.views_bms import connection_of, service
from hub.http.views_page import FormError
from hub.points import Point

routes = web.RouteTableDef()

MAX_UNIT = 32  # as the REST API
PICKER_SIZE = 20  # points offered by the picker at a time


@dataclass(frozen=True)
class MappedRow:
    """A mapping with its hub point's latest value (None: the point is gone)."""

    mapping: Mapping
    row: PointRow | None


@routes.get("/bms/{connection_id}/mappings")
async def mapping_dialog(request: web.Request) -> web.Response:
    """Mapped points with their latest values, and the unmapped ones the BMS sent."""
    return await _dialog(request, connection_of(request), None, None)


@routes.post("/bms/{connection_id}/mappings")
async def add(request: web.Request) -> web.Response:
    """Map an unmapped id: to a new point (by default named after it, in its unit) or an existing one."""
    connection = connection_of(request)
    form = await request.post()
    external_id = str(form.get("external_id", ""))
    seen = service(request).mappings.unmapped_entry(connection.id, external_id)
    try:
        if not external_id:
            raise FormError("external_id: required")
        if form.get("target", "new") == "existing":
            mapping = new_mapping(
                connection,
                external_id,
                seen,
                existing=_point(request, str(form.get("point_id", ""))),
                source_unit=_unit(form, "source_unit"),
            )
        else:
            mapping = new_mapping(
                connection,
                external_id,
                seen,
                name=_name(str(form.get("name", "")).strip()) or None,
                units=_unit(form, "units"),
                source_unit=_unit(form, "source_unit"),
            )
        saved = await service(request).add_mapping(mapping, request[USER_KEY])
    except (FormError, MappingProblem) as err:
        return await _dialog(request, connection, "error", str(err), status=422)
    except Conflict as err:
        return await _dialog(request, connection, "error", err.message, status=409)
    return await _dialog(request, connection, "ok", f"{saved.external_id} is mapped to {saved.point_id}.")


@routes.patch("/bms/{connection_id}/mappings/{mapping_id}")
async def change(request: web.Request) -> web.Response:
    """Change a mapping's source unit, its created point's units, or the existing point it feeds."""
    connection, mapping = _target(request)
    if mapping is None:
        return await _gone(request, connection)
    form = await request.post()
    point_id = str(form.get("point_id", "")).strip()
    try:
        changed = changed_mapping(
            mapping,
            source_unit=_unit(form, "source_unit"),
            units=_unit(form, "units") if mapping.created_point else None,
            existing=_point(request, point_id) if point_id and point_id != mapping.point_id else None,
        )
    except (FormError, MappingProblem) as err:
        return await _dialog(request, connection, "error", str(err), status=422)
    await service(request).update_mapping(changed, request[USER_KEY])
    return await _dialog(request, connection, "ok", f"The mapping of {mapping.external_id} was saved.")


@routes.delete("/bms/{connection_id}/mappings/{mapping_id}")
async def remove(request: web.Request) -> web.Response:
    """Unmap (a point created for the mapping leaves the registry; its history stays)."""
    connection, mapping = _target(request)
    if mapping is None:
        return await _gone(request, connection)
    await service(request).delete_mapping(mapping, request[USER_KEY])
    return await _dialog(request, connection, "ok", f"{mapping.external_id} is no longer mapped.")


@routes.get("/bms/points")
async def point_options(request: web.Request) -> web.Response:
    """The point picker's choices: points whose id or name holds the text typed (`point_id`)."""
    text = request.query.get("point_id", "").strip().lower()
    points = request.app[HUB_KEY].points.points()
    found = [p for p in points if text in p.id.lower() or text in p.name.lower()]
    return await render(request, "fragments/bms_point_options.html", points=found[:PICKER_SIZE])


async def _dialog(
    request: web.Request, connection: Connection, kind: str | None, text: str | None, status: int = 200
) -> web.Response:
    hub = request.app[HUB_KEY]
    now = time.time()
    mapped = []
    for mapping in service(request).mappings.of(connection.id):
        try:
            row: PointRow | None = point_row(hub.points, hub.points.point(mapping.point_id), now)
        except KeyError:
            row = None
        mapped.append(MappedRow(mapping, row))
    return await render(
        request,
        "fragments/bms_mappings.html",
        status=status,
        connection=connection,
        mapped=mapped,
        unmapped=service(request).mappings.unmapped(connection.id),
        kind=kind,
        text=text,
        ago=lambda ts: f"{format_age(max(0.0, now - ts))} ago",
    )


def _target(request: web.Request) -> tuple[Connection, Mapping | None]:
    """The connection and the mapping the URL names (None: no such mapping)."""
    connection = connection_of(request)
    number = natural(request.match_info["mapping_id"])
    return connection, None if number is None else service(request).mappings.by_id(connection.id, number)


async def _gone(request: web.Request, connection: Connection) -> web.Response:
    return await _dialog(request, connection, "error", "That mapping no longer exists.", status=404)


def _point(request: web.Request, point_id: str) -> Point:
    if not point_id:
        raise FormError("point: required: type to search the hub's points")
    try:
        return request.app[HUB_KEY].points.point(point_id)
    except KeyError:
        raise FormError(f"point: no point {point_id!r} on this hub") from None


def _name(text: str) -> str:
    problem = name_problem(text) if text else None
    if problem:
        raise FormError(f"name: {problem}, got {text!r}")
    return text


def _unit(form: MultiDictProxy[str | bytes | web.FileField], field: str) -> str | None:
    """A unit field: None when the form has none, else its text (at most MAX_UNIT characters)."""
    if field not in form:
        return None
    text = str(form[field]).strip()
    if len(text) > MAX_UNIT:
        raise FormError(f"{field}: expected at most {MAX_UNIT} characters, got {len(text)}")
    return text
