"""The BMS page's credentials and activity dialogs (each an htmx fragment shown in a native <dialog>).

The password is never in a page: an admin reveals it (logged in the connection's activity and the
audit log) or regenerates it, which drops the session that used the old one.
"""

from dataclasses import replace
from datetime import UTC, datetime

from aiohttp import web

from hub.bms.activity import ActivityFilter
from hub.bms.model import EventType, Severity
from hub.http.keys import USER_KEY
from hub.http.paging import fetch_page
from hub.http.point_rows import format_time
from hub.http.templating import render
from hub.http.views_activity import day_bound
from hub.http.views_bms import connection_of, service, with_credentials
from hub.http.views_page import FormError

routes = web.RouteTableDef()

PAGE_SIZE = 20
_FILTERS = ("type", "severity", "from", "to")


@routes.get("/bms/{connection_id}/credentials")
async def credentials_dialog(request: web.Request) -> web.Response:
    """Client id, user name, topic and endpoints with copy buttons; the password stays hidden."""
    return await with_credentials(request, "fragments/bms_credentials.html", connection_of(request), None)


@routes.post("/bms/{connection_id}/credentials/reveal")
async def reveal(request: web.Request) -> web.Response:
    """The current password (admins), in place of the hidden one."""
    connection = connection_of(request)
    password = service(request).reveal(connection.id, request[USER_KEY])
    return await render(
        request, "fragments/bms_password.html", connection=connection, password=password, regenerated=False
    )


@routes.post("/bms/{connection_id}/credentials/regenerate")
async def regenerate(request: web.Request) -> web.Response:
    """A new password (admins): the old one is refused from now on and its session is closed."""
    connection, password = await service(request).regenerate(connection_of(request).id, request[USER_KEY])
    return await render(
        request, "fragments/bms_password.html", connection=connection, password=password, regenerated=True
    )


@routes.get("/bms/{connection_id}/activity")
async def activity_dialog(request: web.Request) -> web.Response:
    """The connection's log, newest first: filter by type, severity and dates (UTC days), 20 a page."""
    connection = connection_of(request)
    form = {name: request.query.get(name, "").strip() for name in _FILTERS}
    shared = {"connection": connection, "form": form, "types": list(EventType), "severities": list(Severity)}
    try:
        wanted, number = activity_filter(form, request.query.get("page", "1"))
    except FormError as err:
        return await render(request, "fragments/bms_activity.html", status=422, error=str(err), **shared)
    log = service(request).log
    found = await fetch_page(
        lambda offset: log(connection.id, replace(wanted, offset=offset)), number, PAGE_SIZE
    )
    kept = {name: value for name, value in form.items() if value}
    return await render(
        request,
        "fragments/bms_activity.html",
        error=None,
        entries=found.rows,
        **found.context(f"/bms/{connection.id}/activity?", kept),
        format_time=format_time,
        iso=lambda ts: datetime.fromtimestamp(ts, UTC).isoformat(),
        **shared,
    )


def activity_filter(form: dict[str, str], page_text: str) -> tuple[ActivityFilter, int]:
    """The filter the form's fields ask for, and the page number; FormError names a bad field."""
    if form["type"] and form["type"] not in set(EventType):
        raise FormError(f"type: expected one of {', '.join(EventType)}, got {form['type']!r}")
    if form["severity"] and form["severity"] not in set(Severity):
        raise FormError(f"severity: expected one of {', '.join(Severity)}, got {form['severity']!r}")
    start, end = day_bound(form["from"], "from"), day_bound(form["to"], "to")
    if start is not None and end is not None and end <= start:
        raise FormError("to: expected a date on or after from")
    if not (page_text.isascii() and page_text.isdigit()) or not 1 <= int(page_text) <= 10**6:
        raise FormError(f"page: expected a page number from 1, got {page_text!r}")
    number = int(page_text)
    wanted = ActivityFilter(
        types=frozenset({EventType(form["type"])}) if form["type"] else frozenset(),
        severities=frozenset({Severity(form["severity"])}) if form["severity"] else frozenset(),
        since=start,
        until=end,
        limit=PAGE_SIZE,
    )
    return wanted, number
