"""Time buckets for history: UTC epoch flooring, rollup accumulators and min/max-preserving downsampling.

Buckets are floors of UTC epoch milliseconds, so daylight-saving changes never move them. The same
functions serve the store's precomputed rollups, on-request aggregation and the external BMS ingest.
"""

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

MINUTE_MS = 60_000

K = TypeVar("K", bound=Hashable)


class Bucket(StrEnum):
    """Bucket widths the history API understands; `raw` is no bucketing."""

    RAW = "raw"
    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    M30 = "30m"
    M60 = "60m"

    @property
    def minutes(self) -> int:
        return 0 if self is Bucket.RAW else int(self.removesuffix("m"))


# Widths the writer keeps precomputed, in minutes.
ROLLUP_MINUTES = (15, 30)


class Agg(StrEnum):
    """What a bucketed series shows: one statistic, or all of them."""

    AVG = "avg"
    MIN = "min"
    MAX = "max"
    LAST = "last"
    COUNT = "count"
    ALL = "all"


def bucket_start(ts_ms: int, minutes: int) -> int:
    """The start of the UTC bucket of `minutes` holding `ts_ms` (an exact boundary starts its own bucket)."""
    width = minutes * MINUTE_MS
    return ts_ms - ts_ms % width


@dataclass(slots=True)
class Rollup:
    """Min, max, sum, count and last value of one point's samples in one bucket (an accumulator)."""

    start: int
    min: float
    max: float
    sum: float
    count: int
    last: float
    last_ts: int

    @property
    def avg(self) -> float:
        return self.sum / self.count

    def add(self, ts: int, value: float) -> None:
        """Take one more sample into the bucket."""
        self.min = min(self.min, value)
        self.max = max(self.max, value)
        self.sum += value
        self.count += 1
        if ts >= self.last_ts:
            self.last, self.last_ts = value, ts

    def merge(self, other: "Rollup") -> None:
        """Take another accumulator of the same (or a finer, contained) bucket into this one."""
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.sum += other.sum
        self.count += other.count
        if other.last_ts >= self.last_ts:
            self.last, self.last_ts = other.last, other.last_ts

    def values(self, agg: Agg) -> tuple[float | int, ...]:
        """The statistics `agg` asks for, in the API's column order."""
        if agg is Agg.ALL:
            return (self.min, self.max, self.avg, self.last, self.count)
        return (getattr(self, str(agg)),)


def numeric(value: object) -> float | None:
    """The value as a number a rollup can take, or None (text, missing, not finite)."""
    if isinstance(value, bool | int):
        return float(value)
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def roll_up(samples: Iterable[tuple[K, int, object]], minutes: int) -> dict[tuple[K, int], Rollup]:
    """Aggregate (series, ts_ms, value) samples into buckets of `minutes` per series; skip non-numbers."""
    buckets: dict[tuple[K, int], Rollup] = {}
    width = minutes * MINUTE_MS
    for series, ts, raw in samples:
        if raw.__class__ is float and math.isfinite(raw):  # the usual case, without a call
            value: float | None = raw
        elif (value := numeric(raw)) is None:
            continue
        slot = (series, ts - ts % width)
        rollup = buckets.get(slot)
        if rollup is None:
            buckets[slot] = Rollup(slot[1], value, value, value, 1, value, ts)
        else:
            rollup.add(ts, value)
    return buckets


def coarsen(rollups: Mapping[tuple[K, int], Rollup], minutes: int) -> dict[tuple[K, int], Rollup]:
    """Merge finer rollups (their width divides `minutes`) into buckets of `minutes` per series."""
    buckets: dict[tuple[K, int], Rollup] = {}
    for (series, start), rollup in rollups.items():
        slot = (series, bucket_start(start, minutes))
        merged = buckets.get(slot)
        if merged is None:
            buckets[slot] = Rollup(
                slot[1], rollup.min, rollup.max, rollup.sum, rollup.count, rollup.last, rollup.last_ts
            )
        else:
            merged.merge(rollup)
    return buckets


def downsample(rows: Sequence[Sequence[Any]], max_points: int, column: int = 1) -> list[Sequence[Any]]:
    """At most `max_points` rows, keeping each slice's lowest and highest `column` value in time order.

    Peaks survive (unlike averaging or decimation), so a chart of the result shows every excursion.
    Rows whose value is not a number are kept only if the slice has no number.
    """
    if len(rows) <= max_points:
        return list(rows)
    slices = max(1, max_points // 2)
    size = math.ceil(len(rows) / slices)
    out: list[Sequence[Any]] = []
    for begin in range(0, len(rows), size):
        chunk = rows[begin : begin + size]
        ranked = [i for i, row in enumerate(chunk) if numeric(row[column]) is not None]
        if not ranked:
            out.append(chunk[0])
            continue
        low = min(ranked, key=lambda i: chunk[i][column])
        high = max(ranked, key=lambda i: chunk[i][column])
        out.extend(chunk[i] for i in sorted({low, high}))
    return out[:max_points]
