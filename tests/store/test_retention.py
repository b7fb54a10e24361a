"""Retention with a controlled clock: raw samples after a day (or their own limit), rollups and events after
30 days (or theirs)."""

import dataclasses
import sqlite3
import time

import pytest

from tests.store.conftest import T0, Clock, OpenStore, rows, sample_rows

MS = 1000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
NOW_MS = int(T0 * MS)


async def test_raw_samples_older_than_the_limit_are_purged(open_store: OpenStore, tmp_path, clock: Clock):
    store = await open_store()
    for hours_ago in (30, 25, 23, 1):
        store.add("p", NOW_MS - hours_ago * HOUR_MS, float(hours_ago))
    assert await store.flush()  # a commit purges before it writes: its own old samples go next time
    assert await store.flush()

    left = sample_rows(tmp_path / "hub.db", "SELECT value FROM samples ORDER BY ts")
    assert left == [(23.0,), (1.0,)]
    assert store.purger.rows_purged == 2

    clock.now += 2 * 3600  # two hours later the 23-hour-old sample is 25 hours old
    assert await store.flush()
    assert sample_rows(tmp_path / "hub.db", "SELECT value FROM samples ORDER BY ts") == [(1.0,)]


async def test_per_point_override_keeps_longer(open_store: OpenStore, tmp_path):
    store = await open_store(raw_retention_hours=2, raw_retention_overrides={"kept": 48})
    for point_id in ("kept", "plain"):
        for hours_ago in (40, 3, 1):
            store.add(point_id, NOW_MS - hours_ago * HOUR_MS, float(hours_ago))
    assert await store.flush()
    assert await store.flush()
    assert sample_rows(
        tmp_path / "hub.db",
        "SELECT p.point_id, s.value FROM samples s JOIN points p ON p.key = s.point_key ORDER BY p.key, s.ts",
    ) == [("kept", 40.0), ("kept", 3.0), ("kept", 1.0), ("plain", 1.0)]


async def test_rollups_outlive_raw_samples_then_expire(open_store: OpenStore, tmp_path, clock: Clock):
    store = await open_store()
    store.add("p", NOW_MS, 7.0)
    assert await store.flush()

    clock.now += 2 * 86400  # raw gone, rollups kept
    assert await store.flush()
    assert sample_rows(tmp_path / "hub.db", "SELECT count(*) FROM samples") == [(0,)]
    assert rows(tmp_path / "hub.db", "SELECT width_min, bucket_ts, last FROM rollups ORDER BY width_min") == [
        (15, NOW_MS, 7.0),
        (30, NOW_MS, 7.0),
    ]

    clock.now += 29 * 86400  # 31 days after the bucket
    assert await store.flush()
    assert rows(tmp_path / "hub.db", "SELECT count(*) FROM rollups") == [(0,)]


async def test_purge_is_incremental__bounded_per_commit(open_store: OpenStore, tmp_path, clock: Clock):
    store = await open_store()
    store.purger.policy = dataclasses.replace(store.purger.policy, points_per_step=2, chunks_per_point=3)
    for point in range(5):
        for hour in range(10):  # a chunk spans less than 30 minutes: 10 chunks of each point
            store.add(f"p{point}", NOW_MS - 40 * HOUR_MS + hour * HOUR_MS, 1.0)  # all expired
        store.add(f"p{point}", NOW_MS, 2.0)  # kept
    store.purger.policy = dataclasses.replace(store.purger.policy, raw_hours=10_000)
    assert await store.flush()  # written, nothing expired yet
    store.purger.policy = dataclasses.replace(store.purger.policy, raw_hours=24)

    counts = []
    while sample_rows(tmp_path / "hub.db", "SELECT count(*) FROM samples WHERE value = 1.0") != [(0,)]:
        before = store.purger.rows_purged
        assert await store.flush()
        counts.append(store.purger.rows_purged - before)
        assert len(counts) < 100, "the purge does not make progress"

    assert max(counts) <= 2 * 3, "at most points_per_step x chunks_per_point chunks per commit"
    assert sum(counts) == 50
    assert sample_rows(tmp_path / "hub.db", "SELECT count(*) FROM samples") == [(5,)]


async def test_a_chunk_straddling_the_horizon_is_kept_until_all_of_it_is_old(
    open_store: OpenStore, tmp_path, clock: Clock
):
    store = await open_store()
    for minute in range(20):  # one chunk from 24 h 20 min ago to 24 h 1 min ago
        store.add("p", NOW_MS - 24 * HOUR_MS - (20 - minute) * 60_000, float(minute))
    assert await store.flush()
    assert await store.flush()
    assert sample_rows(tmp_path / "hub.db", "SELECT count(*) FROM samples") == [(20,)]

    clock.now += 9 * 60  # the chunk started 24 h 29 min ago: it could still hold a kept sample
    assert await store.flush()
    assert sample_rows(tmp_path / "hub.db", "SELECT count(*) FROM samples") == [(20,)]
    clock.now += 2 * 60  # 24 h 31 min: every sample a chunk starting then can hold is expired
    assert await store.flush()
    assert sample_rows(tmp_path / "hub.db", "SELECT count(*) FROM samples") == [(0,)]


def add_events(path, *events: tuple[float, str, str]) -> None:
    """Events (days before NOW, kind, subject) written straight into the file, as the services do."""
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO events (ts, kind, subject, data) VALUES (?, ?, ?, '{}')",
            [(NOW_MS - int(days * DAY_MS), kind, subject) for days, kind, subject in events],
        )


async def test_events_older_than_their_retention_are_purged(open_store: OpenStore, tmp_path, clock: Clock):
    store = await open_store(event_retention_days=7)
    add_events(
        tmp_path / "hub.db",
        (10, "audit", "p"),
        (8, "device_status", "d"),
        (6, "audit", "p"),
        (0, "audit", "q"),
    )
    assert await store.flush()

    assert rows(tmp_path / "hub.db", "SELECT kind, subject FROM events ORDER BY ts") == [
        ("audit", "p"),
        ("audit", "q"),
    ]
    assert store.purger.events_purged == 2
    clock.now += 2 * 86400  # the six-day-old event is now eight days old
    assert await store.flush()
    assert rows(tmp_path / "hub.db", "SELECT subject FROM events") == [("q",)]


async def test_an_event_a_service_still_needs_is_kept_past_its_retention(
    open_store: OpenStore, tmp_path, clock: Clock
):
    store = await open_store(event_retention_days=7)
    open_alarms = {"a1"}
    store.purger.protect("alarm", lambda subject: subject in open_alarms)
    add_events(
        tmp_path / "hub.db", (40, "alarm", "a1"), (40, "alarm", "a2"), (40, "audit", "a1"), (1, "alarm", "a2")
    )
    assert await store.flush()
    assert rows(tmp_path / "hub.db", "SELECT kind, subject FROM events ORDER BY id") == [
        ("alarm", "a1"),  # open: the projection is rebuilt from it on start
        ("alarm", "a2"),  # young enough
    ]

    open_alarms.clear()  # a1 closed
    assert await store.flush()
    assert rows(tmp_path / "hub.db", "SELECT subject, ts FROM events") == [("a2", NOW_MS - DAY_MS)]


async def test_event_purge_is_incremental_and_walks_past_kept_events(
    open_store: OpenStore, tmp_path, clock: Clock
):
    store = await open_store(event_retention_days=7)
    store.purger.policy = dataclasses.replace(store.purger.policy, events_per_step=10)
    store.purger.protect("alarm", lambda subject: True)
    add_events(tmp_path / "hub.db", *[(30, "alarm", "open")] * 25, *[(20, "audit", "p")] * 35)

    counts = []
    while rows(tmp_path / "hub.db", "SELECT count(*) FROM events WHERE kind = 'audit'") != [(0,)]:
        assert await store.flush()
        counts.append(store.purger.events_purged - sum(counts))
        assert len(counts) < 20, "the purge is stuck behind the kept events"

    assert max(counts) <= 10
    assert rows(tmp_path / "hub.db", "SELECT count(*) FROM events") == [(25,)]


async def test_events_stay_undeletable_for_their_first_day(open_store: OpenStore, tmp_path):
    """The append-only trigger now allows retention, but no event younger than a day can go."""
    store = await open_store()
    now_ms = int(time.time() * 1000)
    with sqlite3.connect(tmp_path / "hub.db") as db:
        db.executemany(
            "INSERT INTO events (ts, kind, subject, data) VALUES (?, 'audit', ?, '{}')",
            [(now_ms - 2 * DAY_MS, "old"), (now_ms - DAY_MS + 60_000, "young")],
        )
        db.execute("DELETE FROM events WHERE subject = 'old'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only for their first day"):
            db.execute("DELETE FROM events WHERE subject = 'young'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE events SET kind = 'x'")
    assert rows(tmp_path / "hub.db", "SELECT subject FROM events") == [("young",)]
    assert await store.flush()  # the hub's clock is not the database's: its purge never trips the trigger
