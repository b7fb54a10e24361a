"""Weekly occupancy: a week of periods in the site's time zone, holiday exceptions, optimal start."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import voluptuous as vol

from hub.flows.node import Category, Node, NodeRuntime, Port, PortType, Timer
from hub.flows.nodes.common import number, positive_duration, timezone

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_SEARCH_DAYS = 400  # a year of holidays plus a week: past this the schedule never changes
_MAX_HOLIDAY_RANGE = 366

Period = tuple[int, int]  # minutes since local midnight, end exclusive (1440 = midnight)


@dataclass(frozen=True)
class WeekSchedule:
    """Occupied periods for each weekday (Monday first) and the dates that follow `holiday_hours`."""

    days: tuple[tuple[Period, ...], ...]
    holidays: frozenset[date]
    holiday_hours: tuple[Period, ...]

    def periods(self, day: date) -> tuple[Period, ...]:
        return self.holiday_hours if day in self.holidays else self.days[day.weekday()]

    def occupied(self, when: float, zone: ZoneInfo) -> bool:
        """Whether UTC epoch `when` falls in an occupied period of its local day."""
        local = datetime.fromtimestamp(when, zone)
        minute = local.hour * 60 + local.minute + local.second / 60
        return any(start <= minute < end for start, end in self.periods(local.date()))

    def next_change(self, after: float, zone: ZoneInfo) -> float | None:
        """When occupancy next flips after UTC epoch `after`, or None if it never does."""
        state = self.occupied(after, zone)
        day = datetime.fromtimestamp(after, zone).date()
        for _ in range(_SEARCH_DAYS):
            midnight = datetime(day.year, day.month, day.day)
            for minute in sorted({edge for period in self.periods(day) for edge in period}):
                when = (midnight + timedelta(minutes=minute)).replace(tzinfo=zone).timestamp()
                if when > after and self.occupied(when, zone) != state:
                    return when
            day += timedelta(days=1)
        return None


def _period(text: Any, path: list[Any]) -> Period:
    match = _PERIOD.match(text) if isinstance(text, str) else None
    if match is None:
        raise vol.Invalid(f"expected a period such as '07:00-18:00', got {text!r}", path=path)
    start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
    if start_m > 59 or end_m > 59 or start_h > 23 or end_h > 24 or (end_h == 24 and end_m):
        raise vol.Invalid(f"{text!r} is not a time of day (00:00 to 24:00)", path=path)
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if end <= start:
        raise vol.Invalid(f"{text!r} ends before it starts (split a period that crosses midnight)", path=path)
    return start, end


def _days(key: Any, path: list[Any]) -> list[int]:
    first, _, last = str(key).strip().lower().partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise vol.Invalid(f"expected a day or a range of days such as mon or mon-fri, got {key!r}", path=path)
    low, high = DAYS.index(first), DAYS.index(last or first)
    if high < low:
        raise vol.Invalid(f"day range {key!r} runs backwards", path=path)
    return list(range(low, high + 1))


def _holiday_dates(item: Any, path: list[Any]) -> list[date]:
    try:
        if isinstance(item, date):
            return [item]
        first, _, last = str(item).partition("..")
        low, high = date.fromisoformat(first.strip()), date.fromisoformat((last or first).strip())
    except ValueError as exc:
        raise vol.Invalid(
            f"expected a date such as 2026-12-25 or 2026-12-24..2026-12-26, got {item!r}", path=path
        ) from exc
    if not 0 <= (high - low).days < _MAX_HOLIDAY_RANGE:
        raise vol.Invalid(f"holiday range {item!r} must run forwards and span at most a year", path=path)
    return [low + timedelta(days=offset) for offset in range((high - low).days + 1)]


def parse_schedule(value: Any) -> WeekSchedule:
    """Build a WeekSchedule from `{week: {mon-fri: [07:00-18:00]}, holidays: [...], holiday_hours: [...]}`.

    A `timezone` key may travel with the schedule (a blueprint input of type schedule carries its own
    site time); it is checked here and read by the node.
    """
    if not isinstance(value, Mapping) or not isinstance(value.get("week"), Mapping):
        raise vol.Invalid("expected a mapping with week: {mon-fri: ['07:00-18:00'], ...}")
    unknown = set(value) - {"week", "holidays", "holiday_hours", "timezone"}
    if unknown:
        raise vol.Invalid(
            f"unknown key {sorted(unknown)[0]!r}: expected week, holidays, holiday_hours, timezone"
        )
    if "timezone" in value:
        timezone(value["timezone"])
    days: list[list[Period] | None] = [None] * 7
    for key, periods in value["week"].items():
        path = ["week", key]
        if not isinstance(periods, list):
            raise vol.Invalid("expected a list of periods such as ['07:00-18:00']", path=path)
        parsed = [_period(text, [*path, index]) for index, text in enumerate(periods)]
        for day in _days(key, path):
            if days[day] is not None:
                raise vol.Invalid(f"{DAYS[day]} is given twice", path=path)
            days[day] = parsed
    holidays = value.get("holidays") or []
    hours = value.get("holiday_hours") or []
    if not isinstance(holidays, list) or not isinstance(hours, list):
        raise vol.Invalid("holidays and holiday_hours must be lists")
    return WeekSchedule(
        days=tuple(tuple(day or ()) for day in days),
        holidays=frozenset(
            d for i, item in enumerate(holidays) for d in _holiday_dates(item, ["holidays", i])
        ),
        holiday_hours=tuple(_period(text, ["holiday_hours", i]) for i, text in enumerate(hours)),
    )


def schedule_parameter(value: Any) -> Any:
    """Schema validator for a `schedule` (also the shape of a blueprint input of type schedule)."""
    parse_schedule(value)
    return value


OPTIMAL_START = vol.Schema(
    {
        vol.Required("warmup_rate", description="how fast the zone recovers, degrees per hour"): vol.All(
            number, vol.Range(min=0, min_included=False, msg="warmup_rate must be greater than 0")
        ),
        vol.Optional(
            "max_lead", default=7200.0, description="the earliest start before occupancy"
        ): positive_duration,
    }
)


class Schedule(Node):
    TYPE = "schedule"
    CATEGORY = Category.CONTROL
    DESCRIPTION = (
        "A weekly occupancy schedule in the site's time zone (`schedule.timezone`, else `timezone`, default "
        "UTC): `schedule.week` maps "
        "days or day ranges to periods (`mon-fri: ['07:00-18:00']`), dates in `schedule.holidays` (single "
        "dates or `2026-12-24..2026-12-26`) follow `schedule.holiday_hours` instead (unoccupied by default). "
        "`occupied` is sent at start and at each change, on local time across DST changes. With "
        "`optimal_start`, `run` turns true early enough for the zone (input `zone_temp`) to reach the "
        "occupied `setpoint` at the zone's `warmup_rate`, at most `max_lead` ahead; without it `run` "
        "follows `occupied`."
    )
    SCHEMA = vol.Schema(
        {
            vol.Required(
                "schedule", description="week, holidays, holiday_hours, timezone"
            ): schedule_parameter,
            vol.Optional(
                "timezone", default="UTC", description="zone when the schedule names none"
            ): timezone,
            vol.Optional("optimal_start", description="warmup_rate and max_lead"): OPTIMAL_START,
        }
    )
    INPUTS = (
        Port("zone_temp", PortType.NUMBER, "for optimal start"),
        Port("setpoint", PortType.NUMBER, "the occupied setpoint, for optimal start"),
    )
    OUTPUTS = (
        Port("occupied", PortType.BOOLEAN, "the schedule itself"),
        Port("run", PortType.BOOLEAN, "occupied, or conditioning ahead of occupancy"),
    )
    BREAKS_CYCLES = True

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._week = parse_schedule(params["schedule"])
        self._zone = ZoneInfo(params["schedule"].get("timezone") or params["timezone"])
        self._optimal: Mapping[str, float] | None = params.get("optimal_start")
        self._occupied: bool | None = None
        self._run: bool | None = None
        self._conditioning = False  # started early: hold until occupancy begins
        self._next_change: float | None = None
        self._early: Timer | None = None
        self._zone_temp: float | None = None
        self._setpoint: float | None = None

    def start(self) -> None:
        self.runtime.call_later(0, self._change)

    def on_input(self, port: str, value: Any) -> None:
        if port == "zone_temp":
            self._zone_temp = value
        else:
            self._setpoint = value
        if self._occupied is not None:
            self._plan_early_start()

    def _change(self) -> None:
        now = self.runtime.now()
        self._occupied = self._week.occupied(now, self._zone)
        self._next_change = self._week.next_change(now, self._zone)
        if self._next_change is not None:
            self.runtime.call_at(self._next_change, self._change)
        self._conditioning = False
        self.runtime.emit("occupied", self._occupied)
        self._plan_early_start()

    def _lead(self) -> float:
        """Seconds of conditioning needed before occupancy (0 without optimal start or a zone reading)."""
        if self._optimal is None or self._zone_temp is None or self._setpoint is None:
            return 0.0
        hours = abs(self._setpoint - self._zone_temp) / self._optimal["warmup_rate"]
        return min(hours * 3600.0, self._optimal["max_lead"])

    def _plan_early_start(self) -> None:
        if self._early is not None:
            self._early.cancel()
            self._early = None
        if self._occupied or self._conditioning or self._next_change is None:
            self._send_run(bool(self._occupied) or self._conditioning)
            return
        begin = self._next_change - self._lead()
        if begin <= self.runtime.now():
            self._conditioning = True
            self._send_run(True)
        else:
            self._send_run(False)
            self._early = self.runtime.call_at(begin, self._plan_early_start)

    def _send_run(self, run: bool) -> None:
        if run is not self._run:
            self._run = run
            self.runtime.emit("run", run)
