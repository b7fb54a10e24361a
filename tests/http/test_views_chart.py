"""The server-rendered chart: downsampled for drawing, statistics over every good sample."""

from hub.http.views_chart import MAX_CHART_POINTS, chart
from hub.points import Quality
from hub.store import QUALITY_CODES

GOOD, BAD = QUALITY_CODES[Quality.GOOD], QUALITY_CODES[Quality.BAD]
DAY_MS = 24 * 3_600_000


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
