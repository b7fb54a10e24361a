"""A point's history as a server-rendered SVG line chart, with its min/max/avg, over a chosen span.

No chart library to vendor or run: for up to a day the server reads the raw samples (a day of 5 s
data is about 17,000 rows), keeps each slice's low and high (hub.store_buckets.downsample, so peaks
survive) and draws a few hundred points as one SVG path, which any browser draws at once. Longer
spans reach back past the raw samples' retention into the rollups: the average as the line, each
bucket's min and max as a band around it.
"""

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from hub.store_buckets import Rollup, downsample, numeric
from hub.store_query import BAD, RawRow

WIDTH, HEIGHT = 800, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 12, 26  # margins for the axis labels
MAX_CHART_POINTS = 800  # about one per horizontal pixel: more would not show
GAP_INTERVALS = 5  # samples further apart than this many usual intervals break the line
T = TypeVar("T")
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Span:
    """A chart's time span: raw samples up to a day, rollups of `bucket_minutes` beyond."""

    key: str  # the page's `range` parameter
    label: str
    ms: int
    bucket_minutes: int | None = None  # None: raw samples
    time_format: str = "%H:%M"  # of the time axis' labels (UTC)


SPANS = (
    Span("1h", "Last hour", 3_600_000),
    Span("6h", "Last 6 hours", 6 * 3_600_000),
    Span("24h", "Last 24 hours", DAY_MS),
    Span("7d", "Last 7 days", 7 * DAY_MS, bucket_minutes=30, time_format="%d %b %H:%M"),
    Span("30d", "Last 30 days", 30 * DAY_MS, bucket_minutes=60, time_format="%d %b"),
)
DEFAULT_SPAN = SPANS[2]


def span_named(key: str | None) -> Span:
    """The span a `range` parameter names (the default when absent); ValueError names the choices."""
    if key is None:
        return DEFAULT_SPAN
    for span in SPANS:
        if span.key == key:
            return span
    raise ValueError(f"range: expected one of {', '.join(s.key for s in SPANS)}, got {key!r}")


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
    anchor: str = "middle"  # SVG text-anchor: the last time label ends at the axis' end


@dataclass(frozen=True)
class Chart:
    """What the template draws: the line's SVG path, axis ticks and the statistics."""

    path: str
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    stats: Stats | None
    samples: int  # raw samples in the span (summed over the buckets for rollups)
    drawn: int  # points on the line after downsampling
    band: str = ""  # SVG path of the buckets' min-max band (rollups only)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    right: int = WIDTH - RIGHT


def chart(rows: Sequence[RawRow], start_ms: int, end_ms: int, time_format: str = "%H:%M") -> Chart:
    """Chart the good numeric samples of `rows` (ts ms, value, quality code) over [start_ms, end_ms)."""
    good = [(ts, v) for ts, value, quality in rows if quality != BAD and (v := numeric(value)) is not None]
    x_ticks = _time_ticks(start_ms, end_ms, time_format)
    if not good:
        return Chart("", x_ticks, (), None, len(rows), 0)
    values = [v for _, v in good]
    stats = Stats(len(values), min(values), max(values), math.fsum(values) / len(values))
    kept = downsample(good, MAX_CHART_POINTS)
    plot = _Plot(start_ms, end_ms, stats.minimum, stats.maximum)
    # Downsampled, two kept points may be two slices of samples apart (hub.store_buckets.downsample).
    per_slice = math.ceil(len(good) / (MAX_CHART_POINTS // 2)) if len(kept) < len(good) else 1
    gap = max(GAP_INTERVALS, 2 * per_slice + 1) * _usual_interval(good)
    path = " ".join(plot.path(run) for run in _runs(kept, gap))
    return Chart(path, x_ticks, plot.y_ticks(), stats, len(rows), len(kept))


def rollup_chart(rollups: Sequence[Rollup], start_ms: int, end_ms: int, span: Span) -> Chart:
    """Chart buckets: their averages as the line (at each bucket's middle), their min and max as a band."""
    x_ticks = _time_ticks(start_ms, end_ms, span.time_format)
    if not rollups:
        return Chart("", x_ticks, (), None, 0, 0)
    count = sum(r.count for r in rollups)
    stats = Stats(
        count,
        min(r.min for r in rollups),
        max(r.max for r in rollups),
        math.fsum(r.sum for r in rollups) / count,
    )
    width = (span.bucket_minutes or 0) * 60_000
    plot = _Plot(start_ms, end_ms, stats.minimum, stats.maximum)
    lines, bands = [], []
    for run in _runs([(r.start + width // 2, r) for r in rollups], 1.5 * width):  # a missing bucket: a gap
        lines.append(plot.path([(middle, r.avg) for middle, r in run]))
        upper = plot.path([(middle, r.max) for middle, r in run])
        lower = plot.path([(middle, r.min) for middle, r in reversed(run)])
        bands.append(f"{upper} L{lower[1:]} Z")
    return Chart(" ".join(lines), x_ticks, plot.y_ticks(), stats, count, len(rollups), " ".join(bands))


def _usual_interval(samples: Sequence[tuple[int, float]]) -> float:
    """The median time between samples (ms): what a gap in them is measured against."""
    if len(samples) < 2:
        return 0.0
    return statistics.median(later[0] - earlier[0] for earlier, later in itertools.pairwise(samples))


def _runs(points: Sequence[tuple[int, T]], gap_ms: float) -> list[Sequence[tuple[int, T]]]:
    """`points` split where more than `gap_ms` passes between two of them: no data is drawn as no line,
    not as a slope across an outage."""
    runs, first = [], 0
    for i in range(1, len(points)):
        if points[i][0] - points[i - 1][0] > gap_ms:
            runs.append(points[first:i])
            first = i
    runs.append(points[first:])
    return runs


class _Plot:
    """Data to pixels for one chart: time across, the padded value range up."""

    def __init__(self, start_ms: int, end_ms: int, minimum: float, maximum: float) -> None:
        self.start = start_ms
        self.low, self.high = _padded(minimum, maximum)
        self.span_x = (WIDTH - LEFT - RIGHT) / (end_ms - start_ms)
        self.span_y = (HEIGHT - TOP - BOTTOM) / (self.high - self.low)

    def path(self, points: Sequence[tuple[int, float]]) -> str:
        """An SVG path through `points`; a lone point is drawn as a dot (a zero-length line, round caps)."""
        bottom, start, low, span_x, span_y = HEIGHT - BOTTOM, self.start, self.low, self.span_x, self.span_y
        if len(points) == 1:
            points = [points[0], points[0]]
        return " ".join(
            f"{'M' if i == 0 else 'L'}{LEFT + (ts - start) * span_x:.1f},{bottom - (v - low) * span_y:.1f}"
            for i, (ts, v) in enumerate(points)
        )

    def y_ticks(self) -> tuple[Tick, ...]:
        return tuple(
            Tick(HEIGHT - BOTTOM - (value - self.low) * self.span_y, f"{value:.4g}")
            for value in _steps(self.low, self.high)
        )


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


def _time_ticks(start_ms: int, end_ms: int, time_format: str, count: int = 6) -> tuple[Tick, ...]:
    """Evenly spaced time labels (UTC) along the x axis; the last one ends where the axis does."""
    width = WIDTH - LEFT - RIGHT

    def label(i: int) -> str:
        return datetime.fromtimestamp((start_ms + (end_ms - start_ms) * i / count) / 1000, UTC).strftime(
            time_format
        )

    return tuple(
        Tick(LEFT + width * i / count, label(i), "end" if i == count else "middle") for i in range(count + 1)
    )
