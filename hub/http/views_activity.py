"""The activity and audit page: the store's events by type, severity and date, paginated."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aiohttp import web

from hub.alarms.activity import EventQuery, query_events
from hub.alarms.model import Severity
from hub.http.keys import HUB_KEY
from hub.http.paging import fetch_page
from hub.http.point_rows import format_time
from hub.http.templating import render
from hub.http.views_page import FormError, is_htmx, page
from hub.store_tables import Database

routes = web.RouteTableDef()

PAGE_SIZE = 50
_FIELDS = ("type", "severity", "from", "to")


@routes.get("/activity")
async def activity_page(request: web.Request) -> web.Response:
    """Events newest first; `type`, `severity`, `from`/`to` (dates, UTC) and `page` select them."""
    hub = request.app[HUB_KEY]
    form = {name: request.query.get(name, "").strip() for name in _FIELDS}
    shared = {
        "form": form,
        "kinds": await event_kinds(hub.store),
        "severities": list(Severity),
        "format_time": format_time,
    }
    try:
        query, number = parse_filter(form, request.query.get("page", "1"))
    except FormError as err:
        return await page(request, "pages/activity.html", "/activity", status=400, error=str(err), **shared)
    found = await fetch_page(
        lambda offset: query_events(hub.store, replace(query, offset=offset)), number, PAGE_SIZE
    )
    kept = {name: value for name, value in form.items() if value}
    context = {**shared, "events": found.rows, **found.context("/activity?", kept)}
    if is_htmx(request):
        return await render(request, "fragments/activity_rows.html", **context)
    return await page(request, "pages/activity.html", "/activity", error=None, **context)


async def event_kinds(db: Database) -> list[str]:
    """Every event type in the store, for the filter's choices."""
    async with db.reader.execute("SELECT DISTINCT kind FROM events ORDER BY kind") as cursor:
        return [row[0] for row in await cursor.fetchall()]


def parse_filter(form: dict[str, str], page_text: str) -> tuple[EventQuery, int]:
    """The query the form's fields ask for, and the page number; FormError names a bad field."""
    if form["severity"] and form["severity"] not in set(Severity):
        raise FormError(f"severity: expected one of {', '.join(Severity)}")
    start = day_bound(form["from"], "from")
    end = day_bound(form["to"], "to")
    if start is not None and end is not None and end <= start:
        raise FormError("to: expected a date on or after from")
    if not page_text.isdigit() or int(page_text) < 1:
        raise FormError(f"page: expected a page number from 1, got {page_text!r}")
    number = int(page_text)
    query = EventQuery(
        kinds=(form["type"],) if form["type"] else (),
        severities=(form["severity"],) if form["severity"] else (),
        since=start,
        until=end,
        limit=PAGE_SIZE,
    )
    return query, number


def day_bound(text: str, name: str) -> float | None:
    """A date (YYYY-MM-DD, UTC) as epoch seconds: its start for `from`, the next day's start for `to`."""
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise FormError(f"{name}: expected a date such as 2026-03-01, got {text!r}") from None
    if name == "to":
        day += timedelta(days=1)
    return day.timestamp()
