"""Retention with a controlled clock: raw samples after a day (or their own limit), rollups after 30 days."""

import dataclasses

from tests.store.conftest import T0, Clock, OpenStore, rows

MS = 1000
HOUR_MS = 3_600_000
NOW_MS = int(T0 * MS)


async def test_raw_samples_older_than_the_limit_are_purged(open_store: OpenStore, tmp_path, clock: Clock):
    store = await open_store()
    for hours_ago in (30, 25, 23, 1):
        store.add("p", NOW_MS - hours_ago * HOUR_MS, float(hours_ago))
    assert await store.flush()

    left = rows(tmp_path / "hub.db", "SELECT value FROM samples ORDER BY ts")
    assert left == [(23.0,), (1.0,)]
    assert store.purger.rows_purged == 2

    clock.now += 2 * 3600  # two hours later the 23-hour-old sample is 25 hours old
    assert await store.flush()
    assert rows(tmp_path / "hub.db", "SELECT value FROM samples ORDER BY ts") == [(1.0,)]


async def test_per_point_override_keeps_longer(open_store: OpenStore, tmp_path):
    store = await open_store(raw_retention_hours=2, raw_retention_overrides={"kept": 48})
    for point_id in ("kept", "plain"):
        for hours_ago in (40, 3, 1):
            store.add(point_id, NOW_MS - hours_ago * HOUR_MS, float(hours_ago))
    assert await store.flush()
    assert rows(
        tmp_path / "hub.db",
        "SELECT p.point_id, s.value FROM samples s JOIN points p ON p.key = s.point_key ORDER BY p.key, s.ts",
    ) == [("kept", 40.0), ("kept", 3.0), ("kept", 1.0), ("plain", 1.0)]


async def test_rollups_outlive_raw_samples_then_expire(open_store: OpenStore, tmp_path, clock: Clock):
    store = await open_store()
    store.add("p", NOW_MS, 7.0)
    assert await store.flush()

    clock.now += 2 * 86400  # raw gone, rollups kept
    assert await store.flush()
    assert rows(tmp_path / "hub.db", "SELECT count(*) FROM samples") == [(0,)]
    assert rows(tmp_path / "hub.db", "SELECT width_min, bucket_ts, last FROM rollups ORDER BY width_min") == [
        (15, NOW_MS, 7.0),
        (30, NOW_MS, 7.0),
    ]

    clock.now += 29 * 86400  # 31 days after the bucket
    assert await store.flush()
    assert rows(tmp_path / "hub.db", "SELECT count(*) FROM rollups") == [(0,)]


async def test_purge_is_incremental__bounded_per_commit(open_store: OpenStore, tmp_path, clock: Clock):
    store = await open_store()
    store.purger.policy = dataclasses.replace(store.purger.policy, points_per_step=2, rows_per_point=3)
    for point in range(5):
        for minute in range(10):
            store.add(f"p{point}", NOW_MS - 30 * HOUR_MS + minute * 60_000, 1.0)  # all expired
        store.add(f"p{point}", NOW_MS, 2.0)  # kept
    store.purger.policy = dataclasses.replace(store.purger.policy, raw_hours=10_000)
    assert await store.flush()  # written, nothing expired yet
    store.purger.policy = dataclasses.replace(store.purger.policy, raw_hours=24)

    counts = []
    while rows(tmp_path / "hub.db", "SELECT count(*) FROM samples WHERE value = 1.0") != [(0,)]:
        before = store.purger.rows_purged
        assert await store.flush()
        counts.append(store.purger.rows_purged - before)
        assert len(counts) < 100, "the purge does not make progress"

    assert max(counts) <= 2 * 3, "at most points_per_step x rows_per_point rows per commit"
    assert sum(counts) == 50
    assert rows(tmp_path / "hub.db", "SELECT count(*) FROM samples") == [(5,)]
