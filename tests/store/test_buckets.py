"""Bucketing: UTC epoch flooring at exact boundaries and across DST dates; min/max-preserving downsampling."""

from datetime import datetime

import pytest

from hub.store_buckets import Agg, Bucket, Rollup, bucket_start, coarsen, downsample, numeric, roll_up


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


@pytest.mark.parametrize(
    ("moment", "minutes", "start"),
    [
        (
            "2026-01-01T12:30:00.000+00:00",
            30,
            "2026-01-01T12:30:00+00:00",
        ),  # an exact boundary starts its bucket
        ("2026-01-01T12:29:59.999+00:00", 30, "2026-01-01T12:00:00+00:00"),  # the last ms of the previous one
        ("2026-01-01T12:44:10.000+00:00", 15, "2026-01-01T12:30:00+00:00"),
        ("2026-01-01T12:44:10.000+00:00", 5, "2026-01-01T12:40:00+00:00"),
        ("2026-01-01T12:44:10.500+00:00", 1, "2026-01-01T12:44:00+00:00"),
        ("2026-01-01T12:59:59.999+00:00", 60, "2026-01-01T12:00:00+00:00"),
        ("1969-12-31T23:45:00.000+00:00", 30, "1969-12-31T23:30:00+00:00"),  # before the epoch: still a floor
        # Europe's DST change (2026-03-29 01:00 UTC) and a +05:30 offset change nothing: buckets are UTC.
        ("2026-03-29T02:10:00+01:00", 30, "2026-03-29T01:00:00+00:00"),
        ("2026-03-29T03:10:00+02:00", 30, "2026-03-29T01:00:00+00:00"),
        ("2026-01-01T18:14:00+05:30", 30, "2026-01-01T12:30:00+00:00"),
    ],
)
def test_bucket_start__utc_floor(moment, minutes, start):
    assert bucket_start(ms(moment), minutes) == ms(start)


def test_bucket__widths():
    assert [b.minutes for b in Bucket] == [0, 1, 5, 15, 30, 60]


def test_numeric__what_a_rollup_takes():
    assert [numeric(v) for v in (1, 2.5, True, float("nan"), float("inf"), "3", None)] == [
        1.0, 2.5, 1.0, None, None, None, None
    ]  # fmt: skip


def test_roll_up__per_series_and_bucket_with_late_and_duplicate_samples():
    base = ms("2026-01-01T00:00:00+00:00")
    samples = [
        ("a", base + 120_000, 4.0),
        ("a", base, 2.0),  # late: older than the one before it
        ("a", base + 120_000, 6.0),  # duplicate timestamp: counted, the later one is last
        ("a", base + 900_000, 1.0),  # next 15-minute bucket, exactly on its boundary
        ("b", base, "text"),
    ]
    buckets = roll_up(samples, 15)
    assert sorted(buckets) == [("a", base), ("a", base + 900_000)]
    first = buckets[("a", base)]
    assert (first.min, first.max, first.avg, first.last, first.count) == (2.0, 6.0, 4.0, 6.0, 3)

    (hour,) = coarsen(buckets, 60).values()
    assert (hour.start, hour.min, hour.max, hour.count, hour.last) == (base, 1.0, 6.0, 4, 1.0)


def test_rollup_values__columns():
    rollup = Rollup(0, 1.0, 3.0, 4.0, 2, 3.0, 10)
    assert rollup.values(Agg.ALL) == (1.0, 3.0, 2.0, 3.0, 2)
    assert rollup.values(Agg.MAX) == (3.0,)


def test_downsample__keeps_peaks_in_time_order():
    rows = [(t, 0.0) for t in range(1000)]
    rows[123] = (123, 50.0)
    rows[777] = (777, -50.0)
    kept = downsample(rows, 20)
    assert len(kept) <= 20
    assert (123, 50.0) in kept
    assert (777, -50.0) in kept
    assert [t for t, _ in kept] == sorted(t for t, _ in kept)


def test_downsample__short_series_unchanged_and_gaps_kept():
    rows = [(1, 1.0), (2, None), (3, 2.0)]
    assert downsample(rows, 10) == rows
    assert downsample([(t, None) for t in range(10)], 4) == [(0, None), (5, None)], "one row per empty slice"
