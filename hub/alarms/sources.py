"""Alarm sources: point limits with deadband and delay, and stale points, judged on samples and ticks.

A source only says what it sees (a Condition); the service turns a change into an event, so a
source may repeat itself freely. Bus-driven sources (devices, writes, flows) live in the service.
"""

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from hub.alarms.model import Severity, SourceKind
from hub.alarms.settings import LimitRule, StaleRule
from hub.points import Point, PointRegistry, Quality, Sample


@dataclass(frozen=True)
class Condition:
    """A source's verdict on one alarm now: active (raise it) or not (clear it)."""

    alarm_id: str
    active: bool
    source: SourceKind
    subject: str
    severity: Severity
    message: str
    value: object = None


Report = Callable[[Condition], None]


class _Missing(dict[str, object]):
    """A template mapping that leaves unknown `{names}` as they are instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, values: Mapping[str, object]) -> str:
    """Fill a message template; a bad template is shown as written rather than lost."""
    try:
        return template.format_map(_Missing(values))
    except (ValueError, IndexError, AttributeError, TypeError):
        return template


def limit_alarm_id(point_id: str, side: str) -> str:
    return f"{SourceKind.LIMIT}:{point_id}:{side}"


class LimitWatch:
    """One side (high or low) of a point's limit rule: raised after `delay` beyond the limit, cleared after
    `delay` back inside it by more than the deadband."""

    def __init__(
        self,
        rule: LimitRule,
        side: str,
        points: PointRegistry,
        report: Report,
        is_active: Callable[[str], bool],
    ) -> None:
        self.rule = rule
        self.side = side
        self.alarm_id = limit_alarm_id(rule.point, side)
        self._limit = rule.high if side == "high" else rule.low
        self._points = points
        self._report = report
        self._is_active = is_active
        self._pending: bool | None = None  # the state the value asks for, waiting for the delay
        self._since = 0.0
        self._value: float | None = None

    def observe(self, sample: Sample, now: float) -> None:
        """Judge a new sample (a non-number or a bad-quality sample is no evidence either way)."""
        value = sample.value
        if sample.quality is Quality.BAD or isinstance(value, bool) or not isinstance(value, int | float):
            return
        self._value = float(value)
        wanted = self._wanted(self._value)
        if wanted is None or wanted == self._is_active(self.alarm_id):
            self._pending = None
        elif self._pending != wanted:
            self._pending, self._since = wanted, now
        self.tick(now)

    def tick(self, now: float) -> None:
        """Raise or clear once the condition has lasted the rule's delay."""
        if self._pending is None or now - self._since < self.rule.delay:
            return
        active, self._pending = self._pending, None
        self._report(self._condition(active))

    def _wanted(self, value: float) -> bool | None:
        """True beyond the limit, False back inside past the deadband, None in between (no change)."""
        assert self._limit is not None
        beyond = value - self._limit if self.side == "high" else self._limit - value
        if beyond > 0:
            return True
        return False if -beyond > self.rule.deadband or self.rule.deadband == 0 else None

    def _condition(self, active: bool) -> Condition:
        point_id = self.rule.point
        try:
            units = self._points.point(point_id).units
        except KeyError:
            units = ""
        values = {
            "point": point_id,
            "value": self._value,
            "units": f" {units}" if units else "",
            "limit": self._limit,
            "condition": "above high" if self.side == "high" else "below low",
            "severity": str(self.rule.severity),
        }
        message = render(self.rule.message, values)
        return Condition(
            self.alarm_id, active, SourceKind.LIMIT, point_id, self.rule.severity, message, self._value
        )


def limit_watches(
    rules: Iterable[LimitRule], points: PointRegistry, report: Report, is_active: Callable[[str], bool]
) -> dict[str, list[LimitWatch]]:
    """Point id -> the watches of its limit rules (one per configured side)."""
    watches: dict[str, list[LimitWatch]] = {}
    for rule in rules:
        for side, limit in (("high", rule.high), ("low", rule.low)):
            if limit is not None:
                watches.setdefault(rule.point, []).append(LimitWatch(rule, side, points, report, is_active))
    return watches


class StaleWatch:
    """Points without a sample for `factor` times their interval (counted from start when never sampled)."""

    def __init__(
        self,
        rule: StaleRule,
        factor: float,
        points: PointRegistry,
        report: Report,
        is_active: Callable[[str], bool],
        since: float,
    ) -> None:
        self._rule = rule
        self._factor = factor
        self._points = points
        self._report = report
        self._is_active = is_active
        self._since = since
        self._alarm_ids: dict[str, str] = {}  # point id -> its stale alarm's id, made once

    def _watched(self) -> list[Point]:
        points = self._points
        if not self._rule.points:
            return list(points.points())
        watched = []
        for point_id in self._rule.points:
            with contextlib.suppress(KeyError):  # not registered (yet): its integration may be starting
                watched.append(points.point(point_id))
        return watched

    def tick(self, now: float) -> None:
        """Report the watched points whose staleness changed (every point a tick: keep it cheap)."""
        latest = self._points.latest_all()
        intervals: dict[str, float] = {}  # device id -> poll interval, during this tick
        alarm_ids, is_active = self._alarm_ids, self._is_active
        for point in self._watched():
            point_id = point.id
            interval = point.poll_interval or intervals.get(point.device_id)
            if not interval:
                try:
                    interval = intervals[point.device_id] = self._points.device(point.device_id).poll_interval
                except KeyError:
                    continue
            sample = latest.get(point_id)
            age = now - (sample.timestamp if sample is not None else self._since)
            stale = age > self._factor * interval
            alarm_id = alarm_ids.get(point_id)
            if alarm_id is None:
                alarm_id = alarm_ids[point_id] = f"{SourceKind.STALE}:{point_id}"
            if stale == is_active(alarm_id):
                continue
            message = render(self._rule.message, {"point": point_id, "age": round(age), "interval": interval})
            value = None if sample is None else sample.value
            severity = self._rule.severity
            self._report(Condition(alarm_id, stale, SourceKind.STALE, point_id, severity, message, value))
