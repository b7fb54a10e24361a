"""A five-field cron expression and its next run in a site's local time zone (DST-aware)."""

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # aliases for low, low+1, ...


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day of week", 0, 7, _DAYS),  # 0 and 7 are both Sunday
)
_MONTH_LENGTH = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
_SEARCH_DAYS = 366 * 9  # "29 February" recurs within 8 years (1900-style century gaps included)


class CronError(ValueError):
    """A cron expression that cannot be parsed; the message names the field."""


def _value(text: str, field: _Field) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.low + field.names.index(lowered)
    if not text.isdigit():
        raise CronError(f"{field.name} field: {text!r} is not a number")
    value = int(text)
    if not field.low <= value <= field.high:
        raise CronError(f"{field.name} field: {value} is out of range {field.low}-{field.high}")
    return value


def _parse_field(text: str, field: _Field) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{field.name} field: step {step_text!r} must be a positive number")
            step = int(step_text)
        if span == "*":
            low, high = field.low, field.high
        elif "-" in span:
            first, _, last = span.partition("-")
            low, high = _value(first, field), _value(last, field)
            if low > high:
                raise CronError(f"{field.name} field: range {span!r} runs backwards")
        else:
            low = _value(span, field)
            high = field.high if step_text else low
        values.update(range(low, high + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class CronSchedule:
    """When a cron expression fires; day of month and day of week combine as in Vixie cron."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day-of-month field is "*"
    any_weekday: bool

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        by_day = day.day in self.days
        by_weekday = (day.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday

    def next_after(self, after: float, zone: ZoneInfo) -> float:
        """The first firing strictly after UTC epoch `after`, as UTC epoch seconds.

        Local times that do not exist (clocks going forward) are skipped; in the hour repeated when
        clocks go back, each time fires once, at its first occurrence.
        """
        start = datetime.fromtimestamp(after, zone)
        day = start.date()
        for _ in range(_SEARCH_DAYS):
            if self._day_matches(day):
                for hour in self.hours:
                    if day == start.date() and hour < start.hour:
                        continue
                    for minute in self.minutes:
                        wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                        when = wall.timestamp()
                        if when > after and datetime.fromtimestamp(when, zone).replace(
                            tzinfo=None
                        ) == wall.replace(tzinfo=None):
                            return when
            day += timedelta(days=1)
        raise CronError("the expression never fires")


@functools.lru_cache(maxsize=256)
def parse_cron(expression: str) -> CronSchedule:
    """Parse `m h dom mon dow` (lists, ranges, steps, month and day names) or a macro such as @daily."""
    text = _MACROS.get(expression.strip().lower(), expression)
    parts = text.split()
    if len(parts) != len(_FIELDS):
        raise CronError(
            f"expected 5 fields (minute hour day-of-month month day-of-week) or a macro such as @daily, "
            f"got {len(parts)} in {expression!r}"
        )
    minutes, hours, days, months, weekdays = (
        _parse_field(part, field) for part, field in zip(parts, _FIELDS, strict=True)
    )
    schedule = CronSchedule(
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days=days,
        months=months,
        weekdays=frozenset(day % 7 for day in weekdays),
        any_day=parts[2] == "*",
        any_weekday=parts[4] == "*",
    )
    if not any(day <= _MONTH_LENGTH[month] for month in months for day in days) and schedule.any_weekday:
        raise CronError(f"day of month and month never meet in {expression!r}")
    return schedule
