"""The newest chunk of each point, held in memory: appends splice onto it; it never outlives the file."""

import asyncio
import signal
import sqlite3
import sys
import time

import pytest

from hub.store_chunks import CHUNK_SAMPLES, CHUNK_SPAN_MS, append, encode, pack
from tests.store.conftest import T0, Clock, OpenStore, rows, sample_rows
from tests.store.test_faults import CHILD

MS = 1000
START = int(T0 * MS)
HOUR_MS = 3_600_000


def chunk(samples: list[tuple[int, object, int]]) -> bytes:
    times, values, qualities = zip(*samples, strict=True)
    return encode(times, values, qualities)


@pytest.mark.parametrize(
    ("values", "step"),
    [
        ([20.5, 21.0, -3.25, 1e300, 0.0], 5_000),  # doubles, 2-byte deltas
        ([1, -(2**63), 2**63 - 1, 0, 7], 5_000),  # integers
        ([20.5, 21.0, -3.25, 1e300, 0.0], 70_000),  # 4-byte deltas
    ],
)
def test_append__the_same_bytes_encode_gives(values, step):
    samples = [(START + i * step, value, 0) for i, value in enumerate(values)]
    for cut in range(2, len(samples)):
        assert append(START, chunk(samples[:cut]), samples[cut:]) == chunk(samples)


@pytest.mark.parametrize(
    "newer",
    [
        [(START + 10_000, 1.0, 1)],  # not good: a quality byte per sample is needed
        [(START + 10_000, 1, 0)],  # another number kind
        [(START + 10_000, "on", 0)],  # text
        [(START + 5_000, 1.0, 0)],  # not after the last sample
        [(START + 20_000, 1.0, 0), (START + 10_000, 2.0, 0)],  # out of order
        [(START + 5_000 + 70_000, 1.0, 0)],  # a delta wider than the chunk's 2 bytes
        [(START + CHUNK_SPAN_MS, 1.0, 0)],  # past the chunk's span
        [(START + 10_000 + i, 1.0, 0) for i in range(CHUNK_SAMPLES - 1)],  # past its count
    ],
)
def test_append__anything_unusual_is_left_to_merge_and_pack(newer):
    assert append(START, chunk([(START, 0.0, 0), (START + 5_000, 0.5, 0)]), newer) is None


def test_append__a_one_sample_chunk_has_no_width_yet():
    assert append(START, chunk([(START, 0.0, 0)]), [(START + 5_000, 1.0, 0)]) is None


def stored(path) -> list[tuple]:
    return sample_rows(path, "SELECT ts, value, quality FROM samples ORDER BY ts")


async def test_commits_append_to_the_newest_chunk__rows_as_packing_everything_at_once(
    open_store: OpenStore, tmp_path
):
    store = await open_store()
    sent = []
    for commit in range(40):  # 200 samples of one point, 5 a commit, some not good, one text
        for i in range(5):
            ts = START + (commit * 5 + i) * 5_000
            sample = (ts, "fault" if commit == 30 and i == 2 else float(commit + i), int(commit == 20))
            store.add("p", *sample)
            sent.append(sample)
        assert await store.flush()
    assert rows(tmp_path / "hub.db", "SELECT start, data FROM sample_chunks ORDER BY start") == pack(sent)


async def test_a_store_started_on_the_file_reads_the_newest_chunks_back(open_store: OpenStore, tmp_path):
    first = await open_store()
    for i in range(10):
        first.add("p", START + i * 5_000, float(i))
    assert await first.flush()
    await first.stop()

    second = await open_store()
    for i in range(10, 20):
        second.add("p", START + i * 5_000, float(i))
    assert await second.flush()
    assert stored(tmp_path / "hub.db") == [(START + i * 5_000, float(i), 0) for i in range(20)]
    assert rows(tmp_path / "hub.db", "SELECT count(*) FROM sample_chunks") == [(1,)]


async def test_after_kill_9_a_restarted_store_appends_to_what_survived(open_store: OpenStore, tmp_path):
    path = tmp_path / "hub.db"
    base = int(time.time() * MS)  # recent: the child's retention keeps it
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(path), str(base), stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    try:
        async with asyncio.timeout(30):
            for _ in range(3):
                await child.stdout.readline()
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    ((count,),) = sample_rows(path, "SELECT count(*) FROM samples")

    store = await open_store()  # its clock is older than the samples: it purges none
    for i in range(count, count + 100):
        store.add("p", base + i, float(i))
    assert await store.flush()
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]
    assert stored(path) == [(base + i, float(i), 0) for i in range(count + 100)]


async def test_after_a_failed_commit_the_next_one_writes_the_queue_once_in_order(
    open_store: OpenStore, tmp_path
):
    path = tmp_path / "hub.db"
    store = await open_store()
    for i in range(3):
        store.add("p", START + i * 5_000, float(i))
    assert await store.flush()
    with sqlite3.connect(path) as db:  # a real refusal, late in the writer's transaction
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'no'); END")
    store.add("p", START + 3 * 5_000, 3.0)
    store._add_event((START, "test", "p", "{}"))
    assert not await store.flush()
    assert stored(path) == [(START + i * 5_000, float(i), 0) for i in range(3)]

    rows(path, "DROP TRIGGER refuse")
    store.add("p", START + 4 * 5_000, 4.0)
    assert await store.flush()
    assert stored(path) == [(START + i * 5_000, float(i), 0) for i in range(5)]


async def test_a_newest_chunk_purged_by_retention_is_not_written_back(
    open_store: OpenStore, tmp_path, clock: Clock
):
    store = await open_store(raw_retention_hours=1)
    store.add("p", START, 1.0)
    store.add("p", START + 5_000, 2.0)
    assert await store.flush()
    clock.now += 3 * 3600  # the point's only chunk expired: the next commit purges it first
    store.add("p", START + 10_000, 3.0)  # a sample from a device whose clock is hours behind
    assert await store.flush()
    assert stored(tmp_path / "hub.db") == [(START + 10_000, 3.0, 0)]


async def test_a_late_sample_and_newer_ones_after_it(open_store: OpenStore, tmp_path):
    store = await open_store()
    times = [START + i * 5_000 for i in range(150)]
    for ts in times[::2]:
        store.add("p", ts, float(ts))
    assert await store.flush()
    for ts in times[1::2][:40]:  # late: into older chunks, one of them full
        store.add("p", ts, float(ts))
    assert await store.flush()
    store.add("p", times[-1] + 5_000, 0.5)  # then the usual append
    assert await store.flush()
    expected = sorted({*times[::2], *times[1::2][:40]})
    assert stored(tmp_path / "hub.db") == [
        *((ts, float(ts), 0) for ts in expected),
        (times[-1] + 5_000, 0.5, 0),
    ]
