"""The alarm console: current and shelved alarms (filtered, sorted), an alarm's history, the actions on it.

Filters and sort order are query parameters, so a console URL can be shared. Times are shown in
the site's time zone (`identity.timezone`). The pages follow alarm changes through `/live/alarms`
(hub.http.views_alarms_live); actions go through the same AlarmService calls as the REST API.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from hub.alarms.listing import AlarmQuery, SortKey, select
from hub.alarms.model import Alarm, AlarmEvent, AlarmState, Severity, SourceKind
from hub.alarms.service import AlarmService, UnknownAlarm
from hub.core import Hub
from hub.http.alarms import Action
from hub.http.keys import HUB_KEY, USER_KEY
from hub.http.point_rows import format_age
from hub.http.templating import render
from hub.http.views_page import FormError, is_htmx, page

routes = web.RouteTableDef()

E = TypeVar("E", AlarmState, Severity, SourceKind, SortKey)

LIST_LIMIT = 500  # rows a console table shows; more are counted, not listed
MAX_TEXT = 2000  # characters of a comment or a reason (as the REST API allows)
CURRENT = frozenset({AlarmState.ACTIVE_UNACKED, AlarmState.ACTIVE_ACKED, AlarmState.CLEARED_UNACKED})
STATE_LABELS = {
    AlarmState.ACTIVE_UNACKED: "active, unacknowledged",
    AlarmState.ACTIVE_ACKED: "active, acknowledged",
    AlarmState.CLEARED_UNACKED: "cleared, unacknowledged",
    AlarmState.NORMAL: "normal",
}
SHELVE_DURATIONS = {900: "15 minutes", 3600: "1 hour", 14_400: "4 hours", 28_800: "8 hours", 86_400: "1 day"}
# The first click on a column sorts it this way: most urgent, or newest, first.
FIRST_ORDER_DESC = frozenset({SortKey.RAISED_AT, SortKey.UPDATED_AT})
_POINT_SOURCES = frozenset({SourceKind.LIMIT, SourceKind.STALE, SourceKind.WRITE_FAILED})
_FLOW_SOURCES = frozenset({SourceKind.FLOW, SourceKind.FLOW_ERROR})
_FIELDS = ("state", "severity", "source", "q", "sort", "order")


@dataclass(frozen=True)
class Select:
    """One of the console's choices: its query parameter, label and options (value -> text)."""

    name: str
    label: str
    options: Mapping[str, str]
    spelled_default: str = ""  # the value that means the same as "" (e.g. sort=severity)

    def selected(self, form: Mapping[str, str]) -> str:
        value = form.get(self.name, "")
        return "" if value == self.spelled_default else value


SELECTS = (
    Select("state", "State", {"": "current (not normal)", **STATE_LABELS}),
    Select("severity", "Severity", {"": "any", **{s: s for s in Severity}}),
    Select("source", "Source", {"": "any", **{s: s for s in SourceKind}}),
    Select(
        "sort",
        "Sort by",
        {
            "": "Severity",
            "state": "State",
            "source": "Source",
            "subject": "Point / device",
            "raised_at": "Raised",
            "updated_at": "Last change",
        },
        spelled_default="severity",
    ),
    Select("order", "Order", {"": "ascending", "desc": "descending"}, spelled_default="asc"),
)


@dataclass(frozen=True)
class ConsoleFilter:
    """What the console lists and in which order; empty fields match everything."""

    state: AlarmState | None = None
    severity: Severity | None = None
    source: SourceKind | None = None
    text: str = ""
    sort: SortKey = SortKey.SEVERITY
    descending: bool = False

    @property
    def narrowed(self) -> bool:
        """Whether anything but the sort order is chosen (an empty list then is no good news)."""
        return bool(self.state or self.severity or self.source or self.text)

    def query(self, shelved: bool) -> AlarmQuery:
        states = frozenset({self.state}) if self.state else (frozenset() if shelved else CURRENT)
        return AlarmQuery(
            states=states,
            severities=frozenset({self.severity}) if self.severity else frozenset(),
            sources=frozenset({self.source}) if self.source else frozenset(),
            shelved=shelved,
            sort=self.sort,
            descending=self.descending,
            limit=LIST_LIMIT,
        )

    def matches_text(self, alarm: Alarm) -> bool:
        needle = self.text.lower()
        return not needle or any(needle in part.lower() for part in (alarm.id, alarm.subject, alarm.message))

    def params(self) -> dict[str, str]:
        """The filter as query parameters (defaults left out)."""
        chosen = {
            "state": self.state or "",
            "severity": self.severity or "",
            "source": self.source or "",
            "q": self.text,
            "sort": "" if self.sort is SortKey.SEVERITY else self.sort,
            "order": "desc" if self.descending else "",
        }
        return {name: str(value) for name, value in chosen.items() if value}

    def sort_url(self, key: str) -> str:
        """The console URL sorted by column `key`: a second click on the same column reverses it."""
        sort = SortKey(key)
        descending = not self.descending if sort is self.sort else sort in FIRST_ORDER_DESC
        return "/alarms?" + urlencode(replace(self, sort=sort, descending=descending).params())

    def aria_sort(self, key: str) -> str:
        if self.sort != key:
            return "none"
        return "descending" if self.descending else "ascending"


@dataclass(frozen=True)
class AlarmRow:
    """One alarm as the console shows it: links to what it is about, times in the site's zone."""

    alarm: Alarm
    state_label: str
    subject_href: str | None
    device_id: str | None  # the device of a point alarm
    raised: str
    changed: str
    shelved_until: str | None
    shelved_for: str | None  # e.g. "2 h" left


@dataclass(frozen=True)
class HistoryRow:
    """One transition of an alarm: when, what, who, with which value and comment."""

    event: AlarmEvent
    time: str
    value: str
    until: str | None


def parse_filter(query: Mapping[str, str]) -> ConsoleFilter:
    """The console filter the query parameters ask for; FormError names a bad one."""
    order = query.get("order", "").strip()
    if order not in ("", "asc", "desc"):
        raise FormError(f"order: expected asc or desc, got {order!r}")
    text = query.get("q", "").strip()
    if len(text) > 200:
        raise FormError("q: expected at most 200 characters")
    return ConsoleFilter(
        state=_choice(query, "state", AlarmState),
        severity=_choice(query, "severity", Severity),
        source=_choice(query, "source", SourceKind),
        text=text,
        sort=_choice(query, "sort", SortKey) or SortKey.SEVERITY,
        descending=order == "desc",
    )


def _choice(query: Mapping[str, str], name: str, kind: type[E]) -> E | None:
    text = query.get(name, "").strip()
    if not text:
        return None
    if text not in set(kind):
        raise FormError(f"{name}: expected one of {', '.join(kind)}, got {text!r}")
    return kind(text)


def local_time(timestamp: float, zone: ZoneInfo) -> str:
    """An epoch time in the site's zone, to the second, with the zone's abbreviation."""
    return datetime.fromtimestamp(timestamp, zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def site_zone(hub: Hub) -> ZoneInfo:
    return ZoneInfo(hub.config.identity.timezone)


def alarm_row(hub: Hub, alarm: Alarm, now: float, zone: ZoneInfo) -> AlarmRow:
    """The row for `alarm`: a point alarm links its point and device, a device or flow alarm its page."""
    subject = quote(alarm.subject, safe="")
    device_id, href = None, None
    if alarm.source in _POINT_SOURCES:
        href = f"/points/{subject}"
        try:
            device_id = hub.points.point(alarm.subject).device_id
        except KeyError:
            href = None  # its integration is gone: nothing to link to
    elif alarm.source is SourceKind.DEVICE_OFFLINE:
        href = f"/devices/{subject}"
    elif alarm.source in _FLOW_SOURCES:
        href = f"/flows/{subject}/edit"
    until = alarm.shelved_until if alarm.shelved(now) else None
    return AlarmRow(
        alarm,
        STATE_LABELS[alarm.state],
        href,
        device_id,
        local_time(alarm.raised_at, zone),
        local_time(alarm.updated_at, zone),
        None if until is None else local_time(until, zone),
        None if until is None else format_age(until - now),
    )


def _rows(hub: Hub, alarms: Iterable[Alarm], now: float) -> list[AlarmRow]:
    zone = site_zone(hub)
    return [alarm_row(hub, alarm, now, zone) for alarm in alarms]


@routes.get("/alarms")
async def alarm_console(request: web.Request) -> web.Response:
    """Current alarms and shelved ones, filtered and sorted by the query (htmx gets the lists only)."""
    form = {name: request.query.get(name, "").strip() for name in _FIELDS}
    try:
        chosen = parse_filter(request.query)
    except FormError as err:
        return await _console(request, ConsoleFilter(), form, status=400, error=str(err))
    return await _console(request, chosen, form)


async def _console(
    request: web.Request, chosen: ConsoleFilter, form: dict[str, str], status: int = 200, error: str = ""
) -> web.Response:
    service = request.app[HUB_KEY].alarms
    now = service.now()
    matching = [alarm for alarm in service.alarms() if chosen.matches_text(alarm)]
    current, current_total = select(matching, chosen.query(shelved=False), now)
    shelved, shelved_total = select(matching, chosen.query(shelved=True), now)
    context = {
        "chosen": chosen,
        "form": form,
        "error": error,
        "current": _rows(request.app[HUB_KEY], current, now),
        "current_total": current_total,
        "shelved": _rows(request.app[HUB_KEY], shelved, now),
        "shelved_total": shelved_total,
        "shelved_in_alarm": any(alarm.state is not AlarmState.NORMAL for alarm in shelved),
    }
    if is_htmx(request):
        return await render(request, "fragments/alarm_lists.html", status=status, **context)
    return await page(
        request,
        "pages/alarms.html",
        "/alarms",
        status=status,
        selects=SELECTS,
        timezone=request.app[HUB_KEY].config.identity.timezone,
        **context,
    )


@routes.get("/alarms/{alarm_id}")
async def alarm_page(request: web.Request) -> web.Response:
    """One alarm: its state, what it is about, the actions, and every transition it went through."""
    hub = request.app[HUB_KEY]
    alarm_id = request.match_info["alarm_id"]
    alarm = hub.alarms.get(alarm_id)
    if alarm is None:
        return await page(request, "pages/alarms_missing.html", "/alarms", status=404, alarm_id=alarm_id)
    now = hub.alarms.now()
    zone = site_zone(hub)
    history = [
        HistoryRow(
            event,
            local_time(event.timestamp, zone),
            "—" if event.value is None else str(event.value),
            None if event.until is None else local_time(event.until, zone),
        )
        for event in reversed(await hub.alarms.history(alarm.id))
    ]
    context = {"row": alarm_row(hub, alarm, now, zone), "history": history}
    if is_htmx(request):
        return await render(request, "fragments/alarm_detail.html", **context)
    return await page(
        request,
        "pages/alarms_detail.html",
        "/alarms",
        durations=SHELVE_DURATIONS,
        timezone=hub.config.identity.timezone,
        **context,
    )


@routes.get("/alarms/{alarm_id}/actions")
async def action_panel(request: web.Request) -> web.Response:
    """The action forms for one alarm: for the console's action panel, or `embedded` in the alarm's page."""
    hub = request.app[HUB_KEY]
    alarm = hub.alarms.get(request.match_info["alarm_id"])
    if alarm is None:
        return await _message(request, "error", f"No alarm {request.match_info['alarm_id']!r}.", 404)
    row = alarm_row(hub, alarm, hub.alarms.now(), site_zone(hub))
    return await render(
        request,
        "fragments/alarm_actions.html",
        row=row,
        durations=SHELVE_DURATIONS,
        in_panel=request.query.get("embedded") != "true",
    )


@routes.post("/alarms/{alarm_id}/acknowledge")
async def acknowledge(request: web.Request) -> web.Response:
    """Acknowledge with an optional comment; acknowledging an acknowledged alarm changes nothing."""
    data = await request.post()
    return await _act(request, "acknowledge", lambda s, a, user: s.acknowledge(a, user, _comment(data)))


@routes.post("/alarms/{alarm_id}/resolve")
async def resolve(request: web.Request) -> web.Response:
    """Return the alarm to normal with an optional comment (a source still in alarm raises it again)."""
    data = await request.post()
    return await _act(request, "resolve", lambda s, a, user: s.resolve(a, user, _comment(data)))


@routes.post("/alarms/{alarm_id}/shelve")
async def shelve(request: web.Request) -> web.Response:
    """Silence the alarm's notifications for one of SHELVE_DURATIONS, with a reason (both required)."""
    data = await request.post()
    duration, reason = str(data.get("duration", "")).strip(), str(data.get("reason", "")).strip()
    seconds = int(duration) if duration.isascii() and duration.isdigit() else 0
    if seconds not in SHELVE_DURATIONS:
        return await _refused(
            request, f"duration: expected one of {', '.join(SHELVE_DURATIONS.values())}", 422
        )
    if not reason:
        return await _refused(request, "reason: required (say why it is shelved)", 422)
    if len(reason) > MAX_TEXT:
        return await _refused(request, f"reason: expected at most {MAX_TEXT} characters", 422)
    return await _act(request, "shelve", lambda s, a, user: s.shelve(a, s.now() + seconds, reason, user))


@routes.post("/alarms/{alarm_id}/unshelve")
async def unshelve(request: web.Request) -> web.Response:
    return await _act(request, "unshelve", lambda s, a, user: s.unshelve(a, user))


def _comment(data: Mapping[str, object]) -> str:
    return str(data.get("comment", "")).strip()


async def _act(request: web.Request, verb: str, action: Action) -> web.Response:
    """Apply `action` as the page's user; the answer says what changed, or why nothing did."""
    service: AlarmService = request.app[HUB_KEY].alarms
    alarm_id = request.match_info["alarm_id"]
    if len(_comment(await request.post())) > MAX_TEXT:
        return await _refused(request, f"comment: expected at most {MAX_TEXT} characters", 422)
    before = service.get(alarm_id)
    try:
        after = action(service, alarm_id, request[USER_KEY])
    except UnknownAlarm:
        return await _refused(request, f"no alarm {alarm_id!r} on this hub", 404)
    now, zone = service.now(), site_zone(request.app[HUB_KEY])
    state = STATE_LABELS[after.state]
    if before == after:
        return await _message(request, "info", f"Nothing to {verb}: {alarm_id} is {state}.", 200)
    outcome = {
        "acknowledge": f"Acknowledged {alarm_id}: now {state}.",
        "resolve": f"Resolved {alarm_id}: now {state}.",
        "shelve": f"Shelved {alarm_id} until {local_time(after.shelved_until or now, zone)}.",
        "unshelve": f"Unshelved {alarm_id}: its notifications are on again.",
    }[verb]
    response = await _message(request, "ok", outcome, 200)
    response.headers["HX-Trigger"] = "alarm-acted"  # the page's lists and history refresh at once
    return response


async def _refused(request: web.Request, reason: str, status: int) -> web.Response:
    return await _message(request, "error", f"Refused: {reason}.", status)


async def _message(request: web.Request, kind: str, text: str, status: int) -> web.Response:
    return await render(request, "fragments/message.html", status=status, kind=kind, text=text)
