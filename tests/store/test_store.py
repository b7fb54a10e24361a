"""The store's writer on a real SQLite file: samples from the bus, metadata, events, rollups, the bound."""

import asyncio
import sqlite3

import pytest

from hub.bus import Bus
from hub.commands import AuditEvent, WriteOutcome, WriteSource
from hub.health import HealthStatus
from hub.points import Device, DeviceState, DeviceStatus, Point, PointKind, PointRegistry, Quality, Sample
from hub.store_buckets import Bucket
from hub.store_query import History
from hub.store_tables import read_events
from tests.store.conftest import T0, Clock, OpenStore, rows, sample_rows

MS = 1000


def registry_with_points(bus: Bus) -> PointRegistry:
    registry = PointRegistry(bus)
    device = Device("ahu-1", "AHU 1", "bacnet", "192.0.2.10", "Acme", "X1")
    registry.add_device(
        device,
        [
            Point("ahu-1.sat", "ahu-1", "Supply air", PointKind.ANALOG, "°C"),
            Point("ahu-1.fan", "ahu-1", "Fan", PointKind.BINARY),
            Point("ahu-1.mode", "ahu-1", "Mode", PointKind.STRING),
        ],
    )
    return registry


async def test_samples_from_the_bus__stored_with_integer_keys_and_ms(open_store: OpenStore, tmp_path):
    bus = Bus()
    store = await open_store(bus=bus)
    registry = registry_with_points(bus)
    registry.update("ahu-1.sat", Sample(18.25, T0 + 0.5))
    registry.update("ahu-1.fan", Sample(True, T0 + 1))
    registry.update("ahu-1.mode", Sample("auto", T0 + 2, Quality.UNCERTAIN, "stale BMS value"))
    registry.update("ahu-1.sat", Sample(None, T0 + 3, Quality.BAD, "sensor open"))

    assert store.queue_depth == 4, "handlers only queue"
    assert await store.flush()

    stored = sample_rows(
        tmp_path / "hub.db",
        "SELECT p.point_id, s.ts, s.value, s.quality FROM samples s JOIN points p ON p.key = s.point_key "
        "ORDER BY s.ts",
    )
    assert stored == [
        ("ahu-1.sat", T0 * MS + 500, 18.25, 0),
        ("ahu-1.fan", T0 * MS + 1000, 1, 0),
        ("ahu-1.mode", T0 * MS + 2000, "auto", 1),
        ("ahu-1.sat", T0 * MS + 3000, None, 2),
    ]
    assert rows(
        tmp_path / "hub.db", "SELECT point_id, device_id, name, kind, units FROM points ORDER BY key"
    ) == [
        ("ahu-1.sat", "ahu-1", "Supply air", "analog", "°C"),
        ("ahu-1.fan", "ahu-1", "Fan", "binary", ""),
        ("ahu-1.mode", "ahu-1", "Mode", "string", ""),
    ]
    assert rows(
        tmp_path / "hub.db", "SELECT device_id, name, domain, address, vendor, model FROM devices"
    ) == [("ahu-1", "AHU 1", "bacnet", "192.0.2.10", "Acme", "X1")]
    assert store.queue_depth == 0
    assert store.health().detail["samples_written"] == 4


async def test_point_keys_survive_a_restart(open_store: OpenStore, tmp_path):
    first = await open_store()
    first.add("a", int(T0 * MS), 1.0)
    first.add("b", int(T0 * MS), 2.0)
    assert await first.flush()
    await first.stop()

    second = await open_store()
    second.add("c", int(T0 * MS), 3.0)
    second.add("a", int(T0 * MS) + 1, 4.0)
    assert await second.flush()

    assert rows(tmp_path / "hub.db", "SELECT point_id, key FROM points ORDER BY key") == [
        ("a", 1),
        ("b", 2),
        ("c", 3),
    ]
    assert sample_rows(tmp_path / "hub.db", "SELECT count(*) FROM samples WHERE point_key = 1") == [(2,)]


async def test_the_writer_commits_when_a_batch_is_full(open_store: OpenStore):
    store = await open_store(batch_size=50)
    committed = asyncio.Event()
    for i in range(49):
        store.add("p", int(T0 * MS) + i, float(i))
    assert store.commits == 0
    original = store._committed

    def spy(*args):
        original(*args)
        committed.set()

    store._committed = spy  # type: ignore[method-assign]
    store.add("p", int(T0 * MS) + 49, 49.0)
    async with asyncio.timeout(5):
        await committed.wait()
    assert store.samples_written == 50


async def test_stop_writes_what_is_queued(open_store: OpenStore, tmp_path):
    store = await open_store()
    for i in range(10):
        store.add("p", int(T0 * MS) + i, float(i))
    await store.stop()
    assert sample_rows(tmp_path / "hub.db", "SELECT count(*) FROM samples") == [(10,)]


async def test_stop_writes_a_backlog_bigger_than_one_commit(open_store: OpenStore, tmp_path):
    store = await open_store(batch_size=10)  # a commit takes at most 40
    for i in range(100):
        store.add("p", int(T0 * MS) + i, float(i))
    await store.stop()
    assert sample_rows(tmp_path / "hub.db", "SELECT count(*) FROM samples") == [(100,)]


async def test_queue_is_bounded__overflow_dropped_and_counted(open_store: OpenStore):
    store = await open_store(queue_limit=1000)
    for i in range(1500):
        store.add("p", i, 1.0)
    assert store.queue_depth == 1000
    assert store.dropped == 500
    assert store.health().detail["dropped"] == 500


async def test_huge_integers_are_stored_as_floats(open_store: OpenStore, tmp_path):
    store = await open_store()
    store.add("p", int(T0 * MS), 2**70)
    assert await store.flush()
    assert sample_rows(tmp_path / "hub.db", "SELECT value FROM samples") == [(float(2**70),)]


async def test_events__audit_and_device_status_appended(open_store: OpenStore, tmp_path, clock: Clock):
    bus = Bus()
    store = await open_store(bus=bus)
    registry = registry_with_points(bus)
    bus.publish(
        AuditEvent(T0, "alice", WriteSource.REST, "ahu-1.sat", 18.0, 19.5, 8, WriteOutcome.WRITTEN, None)
    )
    clock.now = T0 + 5
    registry.set_device_state("ahu-1", DeviceState(DeviceStatus.OFFLINE, error_count=3, last_error="timeout"))
    assert await store.flush()

    audit, status = await read_events(store)
    assert (audit.timestamp, audit.kind, audit.subject) == (T0, "audit", "ahu-1.sat")
    assert audit.data == {
        "actor": "alice",
        "source": "rest",
        "old": 18.0,
        "new": 19.5,
        "priority": 8,
        "outcome": "written",
        "reason": None,
    }
    assert (status.timestamp, status.kind, status.subject) == (T0 + 5, "device_status", "ahu-1")
    assert status.data == {"status": "offline", "error_count": 3, "last_error": "timeout"}
    assert [e.kind for e in await read_events(store, kind="audit")] == ["audit"]
    db = sqlite3.connect(tmp_path / "hub.db")  # deletes: test_retention.py
    with db, pytest.raises(sqlite3.IntegrityError, match="events are append-only"):
        db.execute("UPDATE events SET kind = 'x'")
    db.close()


async def test_rollups__precomputed_per_bucket_across_batches(open_store: OpenStore):
    store = await open_store()
    start = int(T0 * MS)
    # 15-minute bucket 1: 1, 5, 3 (two batches); bucket 2: 10; a bad sample and a text one are left out.
    store.add("p", start, 1.0)
    store.add("p", start + 60_000, 5.0)
    assert await store.flush()
    store.add("p", start + 120_000, 3)
    store.add("p", start + 180_000, 99.0, 2)
    store.add("p", start + 240_000, "text")
    store.add("p", start + 15 * 60_000, 10.0)
    assert await store.flush()

    history = History(store)
    keys = await history.keys(["p"])
    fifteen = (await history.buckets(Bucket.M15, [keys["p"]], start, start + 3_600_000))[keys["p"]]
    assert [(r.start, r.min, r.max, r.avg, r.last, r.count) for r in fifteen] == [
        (start, 1.0, 5.0, 3.0, 3.0, 3),
        (start + 900_000, 10.0, 10.0, 10.0, 10.0, 1),
    ]
    (thirty,) = (await history.buckets(Bucket.M30, [keys["p"]], start, start + 3_600_000))[keys["p"]]
    assert (thirty.start, thirty.min, thirty.max, thirty.avg, thirty.last, thirty.count) == (
        start, 1.0, 10.0, 4.75, 10.0, 4
    )  # fmt: skip
    (hour,) = (await history.buckets(Bucket.M60, [keys["p"]], start, start + 3_600_000))[keys["p"]]
    assert (hour.count, hour.last) == (4, 10.0)
    five = (await history.buckets(Bucket.M5, [keys["p"]], start, start + 3_600_000))[keys["p"]]
    assert [(r.start, r.count) for r in five] == [(start, 3), (start + 900_000, 1)]


async def test_a_late_sample_updates_min_max_but_not_last(open_store: OpenStore):
    store = await open_store()
    start = int(T0 * MS)
    store.add("p", start + 600_000, 5.0)
    assert await store.flush()
    store.add("p", start + 60_000, -2.0)  # older, arrives later
    assert await store.flush()
    history = History(store)
    key = (await history.keys(["p"]))["p"]
    (rollup,) = (await history.rollups(15, [key], start, start + 900_000))[key]
    assert (rollup.min, rollup.max, rollup.last, rollup.count) == (-2.0, 5.0, 5.0, 2)


async def test_bucketed_ingest__later_reading_for_a_bucket_overwrites(open_store: OpenStore, tmp_path):
    store = await open_store()
    boundary = int(T0 * MS)
    store.add_bucketed("bms.t", boundary + 29 * 60_000 + 59_999, 20.0)  # last ms of the bucket
    store.add_bucketed("bms.t", boundary + 60_000, 21.0)  # same bucket, later: wins
    store.add_bucketed("bms.t", boundary + 30 * 60_000, 22.0)  # exactly the next boundary
    assert await store.flush()
    store.add_bucketed("bms.t", boundary + 5 * 60_000, 23.0)  # a duplicate sent again later: wins
    store.add_bucketed("bms.t", boundary - 1, 19.0)  # late, for the previous bucket
    assert await store.flush()

    assert sample_rows(tmp_path / "hub.db", "SELECT ts, value FROM samples ORDER BY ts") == [
        (boundary - 30 * 60_000, 19.0),
        (boundary, 23.0),
        (boundary + 30 * 60_000, 22.0),
    ]


async def test_health__ok_with_figures(open_store: OpenStore, clock: Clock):
    store = await open_store()
    store.add("p", 1, 1.0)
    assert await store.flush()
    health = store.health()
    assert health.status == HealthStatus.OK
    assert health.detail["last_commit"] == "2026-01-01T00:00:00.000Z"
    assert health.detail["db_bytes"] > 0
    assert health.detail["queue"] == 0


async def test_raw_pages__every_row_once_in_order(open_store: OpenStore):
    store = await open_store()
    start = int(T0 * MS)
    for i in range(1000):
        store.add("p", start + i, float(i))
    assert await store.flush()
    history = History(store)
    key = (await history.keys(["p"]))["p"]

    pages = [page async for page in history.raw_pages(key, start + 1, start + 999, size=200)]

    assert len(pages) > 2, "pages of whole chunks, about `size` rows each"
    assert max(len(page) for page in pages) <= 256
    assert [ts - start for page in pages for ts, _, _ in page] == list(range(1, 999))
