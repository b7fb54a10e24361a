"""What a page shows for a point right now: its value formatted, quality, and whether it is fresh."""

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.points import Point, PointKind, PointRegistry, Quality, Sample, Value


@dataclass(frozen=True)
class PointRow:
    """One point as a table row: definition, latest sample and freshness."""

    point: Point
    sample: Sample | None
    stale: bool
    age_s: float | None  # seconds since the latest sample

    @property
    def value_text(self) -> str:
        return "—" if self.sample is None else format_value(self.point, self.sample.value)

    @property
    def quality(self) -> str:
        return "none" if self.sample is None else str(self.sample.quality)

    @property
    def freshness(self) -> str:
        return "stale" if self.stale else "fresh"

    @property
    def age_text(self) -> str:
        return "never" if self.age_s is None else f"{format_age(self.age_s)} ago"

    @property
    def timestamp_iso(self) -> str:
        if self.sample is None:
            return ""
        return datetime.fromtimestamp(self.sample.timestamp, UTC).isoformat(timespec="seconds")

    @property
    def problem(self) -> str | None:
        """Why the value should not be trusted, in words (None when it can be)."""
        if self.sample is None:
            return "no value yet"
        if self.sample.quality != Quality.GOOD:
            return self.sample.reason or str(self.sample.quality)
        return "stale: no new value for a while" if self.stale else None


def point_row(registry: PointRegistry, point: Point, now: float) -> PointRow:
    """The row for `point` at `now`."""
    sample = registry.latest(point.id)
    age = None if sample is None else max(0.0, now - sample.timestamp)
    return PointRow(point, sample, registry.is_stale(point.id, now), age)


def format_value(point: Point, value: Value) -> str:
    """A value as an operator reads it: on/off for binaries, numbers to a sensible precision."""
    if value is None:
        return "null"
    if point.kind is PointKind.BINARY or isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.2f}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def format_time(timestamp: float) -> str:
    """An epoch time as the UI shows it: UTC, to the second."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_age(seconds: float) -> str:
    """A duration in the largest unit that fits: 4 s, 3 min, 2 h, 5 d."""
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"
