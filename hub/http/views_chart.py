"""A point's history as a server-rendered SVG line chart, with its min/max/avg.

No chart library to vendor or run: the server reads the raw samples (a day of 5 s data is about
17,000 rows), keeps each slice's low and high (hub.store_buckets.downsample, so peaks survive) and
draws a few hundred points as one SVG path, which any browser draws at once.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.store_buckets import downsample, numeric
from hub.store_query import BAD, RawRow

WIDTH, HEIGHT = 800, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 12, 26  # margins for the axis labels
MAX_CHART_POINTS = 800  # about one per horizontal pixel: more would not show


@dataclass(frozen=True)
class Stats:
    """Summary of a point's numeric samples over the chart's span."""

    count: int
    minimum: float
    maximum: float
    average: float


@dataclass(frozen=True)
class Tick:
    """One labelled position on an axis (pixels)."""

    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    """What the template draws: the line's SVG path, axis ticks and the statistics."""

    path: str
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    stats: Stats | None
    samples: int  # raw samples in the span
    drawn: int  # points on the line after downsampling
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    right: int = WIDTH - RIGHT


def chart(rows: Sequence[RawRow], start_ms: int, end_ms: int) -> Chart:
    """Chart the good numeric samples of `rows` (ts ms, value, quality code) over [start_ms, end_ms)."""
    good = [(ts, v) for ts, value, quality in rows if quality != BAD and (v := numeric(value)) is not None]
    if not good:
        return Chart("", _time_ticks(start_ms, end_ms), (), None, len(rows), 0)
    values = [v for _, v in good]
    stats = Stats(len(values), min(values), max(values), math.fsum(values) / len(values))
    kept = downsample(good, MAX_CHART_POINTS)
    low, high = _padded(stats.minimum, stats.maximum)
    span_x = (WIDTH - LEFT - RIGHT) / (end_ms - start_ms)
    span_y = (HEIGHT - TOP - BOTTOM) / (high - low)
    bottom = HEIGHT - BOTTOM
    commands = [
        f"{'M' if i == 0 else 'L'}{LEFT + (ts - start_ms) * span_x:.1f},{bottom - (v - low) * span_y:.1f}"
        for i, (ts, v) in enumerate(kept)
    ]
    y_ticks = tuple(
        Tick(HEIGHT - BOTTOM - (value - low) * span_y, f"{value:.4g}") for value in _steps(low, high)
    )
    return Chart(" ".join(commands), _time_ticks(start_ms, end_ms), y_ticks, stats, len(rows), len(kept))


def _padded(low: float, high: float) -> tuple[float, float]:
    """A y range with a little room above and below (and some height for a flat line)."""
    if high == low:
        return low - 1, high + 1
    pad = (high - low) * 0.05
    return low - pad, high + pad


def _steps(low: float, high: float, count: int = 5) -> list[float]:
    """Round values for about `count` gridlines between low and high."""
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _time_ticks(start_ms: int, end_ms: int, count: int = 6) -> tuple[Tick, ...]:
    """Evenly spaced time labels (UTC, HH:MM) along the x axis."""
    width = WIDTH - LEFT - RIGHT
    return tuple(
        Tick(
            LEFT + width * i / count,
            datetime.fromtimestamp((start_ms + (end_ms - start_ms) * i / count) / 1000, UTC).strftime(
                "%H:%M"
            ),
        )
        for i in range(count + 1)
    )
