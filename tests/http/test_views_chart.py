"""The server-rendered chart: downsampled for drawing, statistics over every good sample."""

import pytest

from hub.http.views_chart import MAX_CHART_POINTS, SPANS, chart, rollup_chart, span_named
from hub.points import Quality
from hub.store import QUALITY_CODES
from hub.store_buckets import Rollup

GOOD, BAD = QUALITY_CODES[Quality.GOOD], QUALITY_CODES[Quality.BAD]
DAY_MS = 24 * 3_600_000
HALF_HOUR = 1_800_000


def top(path: str) -> float:
    """The smallest y (the highest point on screen) of an SVG path of M/L commands."""
    return min(float(step.split(",")[1]) for step in path.split() if "," in step)


def test_chart__a_day_of_5_s_samples_is_downsampled_and_keeps_its_peak():
    rows = [(ts, 20.0 + (ts // 5000) % 10, GOOD) for ts in range(0, DAY_MS, 5000)]
    rows[9000] = (rows[9000][0], 80.0, GOOD)
    drawn = chart(rows, 0, DAY_MS)
    assert drawn.samples == 17_280
    assert drawn.drawn <= MAX_CHART_POINTS
    assert drawn.stats is not None
    assert (drawn.stats.count, drawn.stats.minimum, drawn.stats.maximum) == (17_280, 20.0, 80.0)
    peak_y = min(float(step.split(",")[1]) for step in drawn.path.split())
    assert peak_y < drawn.top + 0.1 * (drawn.bottom - drawn.top)  # the peak is drawn near the top
    assert [tick.label for tick in drawn.x_ticks][:2] == ["00:00", "04:00"]


def test_chart__bad_and_text_samples_are_left_out_and_none_left_means_no_line():
    rows = [(0, 5.0, BAD), (1000, "on", GOOD), (2000, 7.0, GOOD)]
    drawn = chart(rows, 0, 10_000)
    assert drawn.stats is not None
    assert (drawn.stats.count, drawn.stats.average) == (1, 7.0)
    empty = chart([(0, 5.0, BAD)], 0, 10_000)
    assert (empty.path, empty.stats, empty.drawn) == ("", None, 0)


def test_rollup_chart__the_average_as_the_line_min_and_max_as_a_band_and_stats_over_every_sample():
    week = span_named("7d")
    level = [10.0 + i % 5 for i in range(336)]
    rollups = [
        Rollup(i * HALF_HOUR, v, v + 2, (v + 1) * 60, 60, v + 1, i * HALF_HOUR) for i, v in enumerate(level)
    ]
    rollups[100] = Rollup(100 * HALF_HOUR, 5.0, 90.0, 20.0 * 60, 60, 20.0, 100 * HALF_HOUR)
    drawn = rollup_chart(rollups, 0, week.ms, week)
    assert drawn.stats is not None
    assert (drawn.stats.count, drawn.stats.minimum, drawn.stats.maximum) == (336 * 60, 5.0, 90.0)
    assert drawn.stats.average == pytest.approx(sum(r.sum for r in rollups) / (336 * 60))
    assert (drawn.samples, drawn.drawn) == (336 * 60, 336)
    assert (drawn.band[0], drawn.band[-1], drawn.band.count("M"), drawn.path.count("M")) == ("M", "Z", 1, 1)
    band_top, line_top = top(drawn.band), top(drawn.path)
    assert band_top < drawn.top + 0.1 * (drawn.bottom - drawn.top)  # the 90 peak is in the band...
    assert line_top > band_top + 50  # ... not in the line of averages
    assert [tick.label for tick in drawn.x_ticks][:2] == ["01 Jan 00:00", "02 Jan 04:00"]
    assert drawn.x_ticks[-1].anchor == "end"  # the last label stays inside the chart


def test_gaps_break_the_line_instead_of_drawing_a_slope_across_them():
    rows = [(ts, 20.0, GOOD) for ts in [*range(0, 600_000, 5000), *range(3_600_000, 4_200_000, 5000)]]
    assert chart(rows, 0, DAY_MS).path.count("M") == 2  # an hour without samples between two runs
    day = [(ts, 20.0 + ts % 7, GOOD) for ts in range(0, DAY_MS, 5000)]  # downsampled, but no gap
    assert chart(day, 0, DAY_MS).path.count("M") == 1
    outage = [row for row in day if not 43_200_000 <= row[0] < 46_800_000]  # an hour without samples
    assert chart(outage, 0, DAY_MS).path.count("M") == 2
    week = span_named("7d")
    rollups = [
        Rollup(i * HALF_HOUR, 1.0, 2.0, 3.0, 2, 1.5, i * HALF_HOUR) for i in [*range(10), *range(20, 30)]
    ]
    drawn = rollup_chart(rollups, 0, week.ms, week)
    assert (drawn.path.count("M"), drawn.band.count("Z")) == (2, 2)


def test_rollup_chart__one_bucket_is_a_dot_and_none_is_no_line():
    month = span_named("30d")
    one = rollup_chart([Rollup(0, 1.0, 3.0, 4.0, 2, 3.0, 0)], 0, month.ms, month)
    first, second = one.path.split()
    assert first[1:] == second[1:]  # a zero-length line: round caps draw it as a dot
    assert rollup_chart([], 0, month.ms, month).stats is None


def test_span_named__the_default_and_a_clear_error_naming_the_choices():
    assert span_named(None).key == "24h"
    assert [span.key for span in SPANS] == ["1h", "6h", "24h", "7d", "30d"]
    with pytest.raises(ValueError, match="range: expected one of 1h, 6h, 24h, 7d, 30d, got '2y'"):
        span_named("2y")
