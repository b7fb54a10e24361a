"""Alarm sources: point limits with deadband and delay, and stale points, judged on samples and ticks.

A source only says what it sees (a Condition); the service turns a change into an event, so a
source may repeat itself freely. Bus-driven sources (devices, writes, flows) live in the service.
"""

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from hub.alarms.model import Severity, SourceKind
from hub.alarms.settings import LimitRule, StaleRule
from hub.points import DeviceAdded, PointAdded, PointRegistry, Quality, Sample


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
    """Points without a sample for `factor` times their interval (counted from start when never sampled).

    A tick judges only the points whose staleness may have changed (those past their deadline, those
    stale now, those (re-)registered since the last tick) so that it stays cheap at 10,000 points.
    A sample moves a deadline silently (samples inside the deadband are not even published), so a point
    is judged on the registry's latest sample once its deadline has passed.

    A stale point for which `suppressed` says so (its device is offline) raises nothing: the device's
    own alarm is the one to act on, not a hundred consequential ones (ISA-18.2's designed
    suppression). It is raised on the next tick after that ends if it is still stale then.
    """

    def __init__(
        self,
        rule: StaleRule,
        factor: float,
        points: PointRegistry,
        report: Report,
        is_active: Callable[[str], bool],
        since: float,
        suppressed: Callable[[str], bool] | None = None,
    ) -> None:
        self._rule = rule
        self._factor = factor
        self._points = points
        self._report = report
        self._is_active = is_active
        self._since = since
        self._suppressed = suppressed
        self.suppressed: set[str] = set()  # stale points not raised because of `suppressed`
        self._alarm_prefix = f"{SourceKind.STALE}:"
        self._order: dict[str, int] = {}  # watched point -> its place in the registry: reports keep it
        self._intervals: dict[str, float] = {}  # point -> its interval, until it is registered again
        self._by_device: dict[str, set[str]] = {}  # device -> points that take its poll interval
        self._new: set[str] = set()  # (re-)registered since the last tick
        self._stale: set[str] = set()
        self._due: dict[str, float] = {}  # fresh point -> the deadline of its live heap entry
        self._heap: list[tuple[float, str]] = []  # (deadline, point); an entry not in _due is dropped
        for point_id in rule.points:  # named points may not be registered yet: judged once they are
            self._order.setdefault(point_id, len(self._order))
        self._new.update(self._order)
        if not rule.points:
            for point in points.points():
                self._watch(point.id)

    def point_added(self, added: PointAdded) -> None:
        """Judge a (re-)registered point at the next tick: it may be new or have another interval."""
        self._watch(added.point.id)

    def device_added(self, added: DeviceAdded) -> None:
        """Judge again the points that take this device's poll interval (it may have changed)."""
        for point_id in self._by_device.pop(added.device.id, ()):
            self._watch(point_id)

    def _watch(self, point_id: str) -> None:
        if not self._rule.points:
            self._order.setdefault(point_id, len(self._order))
        if point_id in self._order:
            self._intervals.pop(point_id, None)
            self._new.add(point_id)

    def tick(self, now: float) -> None:
        """Report the watched points whose staleness changed."""
        heap, due, intervals, factor = self._heap, self._due, self._intervals, self._factor
        latest, is_active, prefix = self._points.latest_all(), self._is_active, self._alarm_prefix
        judged = self._new | self._stale
        self._new = set()
        later: list[tuple[float, str]] = []  # pushed after the pops: a deadline may equal `now`
        while heap and heap[0][0] <= now:
            deadline, point_id = heapq.heappop(heap)
            if due.get(point_id) != deadline:
                continue  # superseded
            # The usual case, kept lean: sampled since, so not stale, and its alarm agrees.
            sample, interval = latest.get(point_id), intervals.get(point_id)
            if sample is not None and interval is not None:
                last, span = sample.timestamp, factor * interval
                if not now - last > span and not is_active(prefix + point_id):
                    due[point_id] = last + span
                    later.append((last + span, point_id))
                    continue
            del due[point_id]
            judged.add(point_id)
        changed = [c for c in (self._judge(p, now, later) for p in judged) if c is not None]
        if len(later) > len(heap):
            heap.extend(later)
            heapq.heapify(heap)
        else:
            for entry in later:
                heapq.heappush(heap, entry)
        changed.sort(key=lambda condition: self._order[condition.subject])
        for condition in changed:
            self._report(condition)

    def _judge(self, point_id: str, now: float, later: list[tuple[float, str]]) -> Condition | None:
        """The point's condition when its alarm says otherwise; a fresh point is given its next deadline."""
        sample = self._points.latest(point_id)
        interval = self._intervals.get(point_id)
        if interval is None or sample is None:  # no sample: maybe no longer registered
            interval = self._interval(point_id)
            if interval is None:
                self._stale.discard(point_id)
                self.suppressed.discard(point_id)
                self._due.pop(point_id, None)
                return None
        last = self._since if sample is None else sample.timestamp
        age = now - last
        span = self._factor * interval
        stale = age > span
        if stale:
            self._stale.add(point_id)
            self._due.pop(point_id, None)
        else:
            self._stale.discard(point_id)
            deadline = last + span
            if self._due.get(point_id) != deadline:
                self._due[point_id] = deadline
                later.append((deadline, point_id))
        held = stale and self._suppressed is not None and self._suppressed(point_id)
        (self.suppressed.add if held else self.suppressed.discard)(point_id)
        alarm_id = self._alarm_prefix + point_id
        if stale == self._is_active(alarm_id) or held:  # held: an alarm already raised stays as it is
            return None
        message = render(self._rule.message, {"point": point_id, "age": round(age), "interval": interval})
        value = None if sample is None else sample.value
        return Condition(alarm_id, stale, SourceKind.STALE, point_id, self._rule.severity, message, value)

    def _interval(self, point_id: str) -> float | None:
        """The point's poll interval, or its device's; None when it is not registered or never polled."""
        points = self._points
        try:
            point = points.point(point_id)
            interval = point.poll_interval
            if not interval:
                interval = points.device(point.device_id).poll_interval
                self._by_device.setdefault(point.device_id, set()).add(point_id)
        except KeyError:
            return None
        if not interval:
            return None
        self._intervals[point_id] = interval
        return interval
