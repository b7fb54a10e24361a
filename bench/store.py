"""Store benchmark: ingest through the hub's writer vs raw SQLite, size on disk, queries, purge stalls.

Run from the repository root:

    .venv/bin/python bench/store.py            # 3 runs of each timed part (medians printed)
    .venv/bin/python bench/store.py --quick    # 1 run, smaller purge backlog
    .venv/bin/python bench/store.py --commit-only   # only the commit of 10,000 points

Method (every database is a real file in a temporary folder; nothing is asserted, each figure is
printed with its target and "meets" or "below")
- Raw rate: plain sqlite3, `executemany` of 10,000-row batches (1,000 points) into a table of one
  sample a row (WITHOUT ROWID keyed by (point, ts), WAL, synchronous=NORMAL), a commit per batch:
  the issue's yardstick (the store itself packs runs of samples into chunks).
- Hub rate: the same rows through `Store.add()` (what the bus handler calls) and the one writer
  task with the default config (commits every 10,000 queued samples or 5 s), rollups included;
  the producer keeps the queue below its limit, so nothing is dropped; timed until all are committed.
  The ratio hub/raw is printed: both are measured in the same run on the same machine.
- Bytes per sample: pages of the sample_chunks table (dbstat) / samples, after the hub-rate run.
- Bytes per day: 100 points at 30 s for 24 h written through the store (with a clock that moves),
  then the file size (samples + rollups + metadata) after a checkpoint.
- Queries, through the store's reader connection: one point's 24 h raw (the 100-point day, 2,880
  rows), median of 50; 15-minute rollups over 24 h for 1,000 points (precomputed), median of 5.
- Commit at 10,000 points: a store holding 10,000 points whose newest chunks are part full (10 warm-up
  commits), then 20 commits of one new sample per point (5 s apart); per commit the wall time of
  `flush()`, the process CPU time it used (all threads: the writer's SQLite and merge threads too)
  and the longest event-loop stall during it (a task sleeping 2 ms measures how late it wakes);
  medians printed.
- Purge: a backlog of expired samples of 10,000 points at 5 s (minutes of data: see --purge-minutes;
  a full day would be 173 M samples) packed into chunks and inserted with plain sqlite3, then the
  store purges it (chunk rows) step by step
  while the writer keeps ingesting 10,000 points every second (commits every 0.5 s); the longest
  purge step is the writer's worst stall from retention (the step runs inside its transaction).
"""

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hub.bus import Bus
from hub.config import StoreConfig
from hub.store import Store
from hub.store_buckets import Agg, Bucket
from hub.store_chunks import pack
from hub.store_db import open_database
from hub.store_query import History
from hub.supervisor import Supervisor

BATCH = 10_000
POINTS = 1_000
DAY_MS = 86_400_000


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def rows_for(count: int, start_ms: int) -> list[tuple[int, int, float, int]]:
    """`count` samples spread over POINTS points, one per point per second."""
    return [(1 + i % POINTS, start_ms + (i // POINTS) * 1000, 20.0 + (i % 97) / 10, 0) for i in range(count)]


async def raw_rate(folder: Path, count: int) -> tuple[float, float]:
    """Rows/s of plain sqlite3 executemany batches into a table of one sample a row, and bytes per row."""
    path = folder / f"raw-{time.monotonic_ns()}.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE samples (point_key INTEGER NOT NULL, ts INTEGER NOT NULL, value, "
        "quality INTEGER NOT NULL, PRIMARY KEY (point_key, ts)) WITHOUT ROWID"
    )
    rows = rows_for(count, int(time.time() * 1000))
    started = time.perf_counter()
    for begin in range(0, count, BATCH):
        db.execute("BEGIN")
        db.executemany("INSERT INTO samples VALUES (?, ?, ?, ?)", rows[begin : begin + BATCH])
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    size = _table_bytes(db, "samples")
    db.close()
    return count / elapsed, size / count


async def until(check: Callable[[], bool]) -> None:
    """Poll a counter (the store has no event for these; a benchmark may poll)."""
    while not check():  # noqa: ASYNC110
        await asyncio.sleep(0.001)


async def _create(path: Path) -> None:
    await (await open_database(path)).close()


async def hub_rate(folder: Path, count: int) -> tuple[float, float]:
    """Samples/s through Store.add() and the writer; and bytes per sample of the sample_chunks table."""
    path = folder / f"hub-{time.monotonic_ns()}.db"
    store = Store(StoreConfig(), path, Bus(), Supervisor())
    await store.start()
    rows = rows_for(count, int(time.time() * 1000))
    ids = [f"dev{key // 100}.point{key}" for key in range(POINTS + 1)]
    limit = store.config.queue_limit - BATCH
    started = time.perf_counter()
    for begin in range(0, count, BATCH):
        await until(lambda: store.queue_depth <= limit)
        for key, ts, value, quality in rows[begin : begin + BATCH]:
            store.add(ids[key], ts, value, quality)
        await asyncio.sleep(0)
    await until(lambda: store.samples_written >= count)
    elapsed = time.perf_counter() - started
    await store.stop()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = _table_bytes(db, "sample_chunks")
    assert store.dropped == 0
    return count / elapsed, pages / count


def _table_bytes(db: sqlite3.Connection, table: str) -> int:
    return db.execute("SELECT sum(pgsize) FROM dbstat WHERE name = ?", (table,)).fetchone()[0]


async def day_of_100_points(folder: Path) -> tuple[Path, int]:
    """100 points at 30 s for 24 h through the store; returns the file and its size after a checkpoint."""
    start = (int(time.time()) // 86400 - 1) * 86400
    clock = Clock(start)
    path = folder / "day.db"
    store = Store(StoreConfig(), path, Bus(), Supervisor(), clock=clock)
    await store.start()
    for step in range(2880):
        ts = (start + step * 30) * 1000
        for point in range(100):
            store.add(f"ahu{point // 10}.p{point}", ts, 20.0 + ((step + point) % 50) / 10)
        if step % 100 == 99:
            clock.now = ts / 1000
            await store.flush()
    clock.now = start + 86400
    await store.stop()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path, path.stat().st_size


async def query_one_point_day(path: Path, runs: int = 50) -> float:
    store = Store(StoreConfig(raw_retention_hours=87_600), path, Bus(), Supervisor())
    await store.start()
    history = History(store)
    key = (await history.keys(["ahu0.p0"]))["ahu0.p0"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        found = await history.raw(key, 0, 2**62)
        times.append(time.perf_counter() - started)
    await store.stop()
    assert len(found) == 2880, len(found)
    return statistics.median(times) * 1000


async def query_rollups_1000_points(folder: Path, runs: int = 5) -> float:
    """15-minute rollups over 24 h for 1,000 points (written through the store at 5-minute samples)."""
    start = (int(time.time()) // 86400 - 1) * 86400
    clock = Clock(start + 86400)
    path = folder / "rollups.db"
    store = Store(StoreConfig(raw_retention_hours=87_600), path, Bus(), Supervisor(), clock=clock)
    await store.start()
    for step in range(288):
        for point in range(1000):
            store.add(f"p{point}", (start + step * 300) * 1000, float(step))
        if step % 20 == 19:
            await store.flush()
    await store.flush()
    history = History(store)
    keys = list((await history.keys(f"p{point}" for point in range(1000))).values())
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        found = await history.series(Bucket.M15, Agg.AVG, keys, start * 1000, (start + 86400) * 1000)
        times.append(time.perf_counter() - started)
    await store.stop()
    assert sum(len(rows) for rows in found.values()) == 96_000
    return statistics.median(times) * 1000


async def purge_stalls(folder: Path, minutes: int) -> tuple[int, int, float, float, float]:
    """Chunks purged, steps, longest and median step (ms), longest flush (ms), ingesting 10,000 points."""
    path = folder / "purge.db"
    await _create(path)
    points = 10_000
    old_start = int(time.time() * 1000) - 2 * DAY_MS
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO points VALUES (?, ?, '', ?, '', '', 0)",
        [(k, f"p{k}", f"p{k}") for k in range(1, points + 1)],
    )
    db.execute("COMMIT")
    chunks = pack([(old_start + tick * 5000, 1.0, 0) for tick in range(minutes * 12)])
    db.execute("BEGIN")
    for key in range(1, points + 1):
        db.executemany("INSERT INTO sample_chunks VALUES (?, ?, ?)", [(key, *chunk) for chunk in chunks])
    db.execute("COMMIT")
    db.close()
    backlog = points * len(chunks)
    store = Store(StoreConfig(commit_interval=0.5), path, Bus(), Supervisor())
    await store.start()
    steps: list[float] = []
    flushes: list[float] = []
    step = store.purger.step
    flush = store.flush

    async def timed_step(*args: object) -> int:
        started = time.perf_counter()
        deleted = await step(*args)  # type: ignore[arg-type]
        steps.append(time.perf_counter() - started)
        return deleted

    async def timed_flush() -> bool:
        started = time.perf_counter()
        done = await flush()
        flushes.append(time.perf_counter() - started)
        return done

    store.purger.step = timed_step  # type: ignore[method-assign]
    store.flush = timed_flush  # type: ignore[method-assign]
    now = int(time.time() * 1000)
    while store.purger.rows_purged < backlog:
        for key in range(1, points + 1):
            store.add(f"p{key}", now, 2.0)
        now += 5000
        await asyncio.sleep(1.0)  # 10,000 samples a second: five times the rate of 10,000 points at 5 s
    await store.stop()
    return (
        store.purger.rows_purged,
        len(steps),
        max(steps) * 1000,
        statistics.median(steps) * 1000,
        max(flushes) * 1000,
    )


async def stall_probe(done: asyncio.Event, worst: list[float]) -> None:
    """Until `done`: how late a 2 ms sleep wakes up, the worst kept in worst[0] (seconds)."""
    while not done.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.002)
        worst[0] = max(worst[0], time.perf_counter() - before - 0.002)


async def commit_10k_points(folder: Path, commits: int = 20, warm_up: int = 10) -> tuple[float, float, float]:
    """Median wall and CPU ms of a commit of one sample each for 10,000 points, and its worst loop stall."""
    store = Store(StoreConfig(), folder / "commit.db", Bus(), Supervisor())
    await store.start()
    ids = [f"dev{key // 100}.p{key}" for key in range(10_000)]
    start = int(time.time() * 1000) - 3_600_000
    walls, cpus, stalls = [], [], []
    for step in range(warm_up + commits):
        for key, point_id in enumerate(ids):
            store.add(point_id, start + step * 5000, 20.0 + (key + step) % 50 / 10)
        done, worst = asyncio.Event(), [0.0]
        task = asyncio.create_task(stall_probe(done, worst))
        await asyncio.sleep(0)
        cpu, wall = time.process_time(), time.perf_counter()
        assert await store.flush()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        done.set()
        await task
        if step >= warm_up:
            walls.append(wall)
            cpus.append(cpu)
            stalls.append(worst[0])
    await store.stop()
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, statistics.median(stalls) * 1000


def verdict(ok: bool) -> str:
    return "meets" if ok else "BELOW"


async def print_commit(folder: Path) -> None:
    wall, cpu, stall = await commit_10k_points(folder)
    print(f"commit of 10,000 points (1 sample each, median of 20): {wall:,.0f} ms wall, {cpu:,.0f} ms CPU")
    print(f"  event-loop stall during a commit (median) {stall:>6.1f} ms")


async def main_async(args: argparse.Namespace, folder: Path) -> None:
    if args.commit_only:
        await print_commit(folder)
        return
    runs = 1 if args.quick else 3
    count = 500_000
    raws, hubs, per_row, raw_per_row = [], [], [], []
    for _ in range(runs):
        rate, size = await raw_rate(folder, count)
        raws.append(rate)
        raw_per_row.append(size)
        rate, size = await hub_rate(folder, count)
        hubs.append(rate)
        per_row.append(size)
    raw, hub = statistics.median(raws), statistics.median(hubs)
    print(f"ingest ({count:,} samples, {POINTS:,} points, median of {runs})")
    print(f"  raw sqlite3 executemany 10k batches  {raw:>10,.0f} rows/s")
    print(f"  hub writer (Store.add + writer task) {hub:>10,.0f} samples/s")
    ratio = hub / raw
    print(f"  ratio hub/raw                        {ratio:>10.0%}   target >= 60%   {verdict(ratio >= 0.6)}")
    size = statistics.median(per_row)
    print(f"  sample_chunks bytes per sample       {size:>10.1f}   target <= 25     {verdict(size <= 25)}")
    raw_size = statistics.median(raw_per_row)
    print(f"  one sample a row, filled by sqlite3  {raw_size:>10.1f}   (the former layout)")

    path, day_bytes = await day_of_100_points(folder)
    print(
        f"database per day, 100 points at 30 s   {day_bytes / 1e6:>10.2f} MB  target < 10 MB  "
        f"{verdict(day_bytes < 10e6)}  ({day_bytes / 288_000:.1f} bytes/sample with rollups)"
    )
    one = await query_one_point_day(path)
    print(f"query one point's 24 h raw (2,880)     {one:>10.2f} ms  target < 10 ms  {verdict(one < 10)}")
    many = await query_rollups_1000_points(folder)
    print(
        f"query 15-min avg rollups 24 h, 1,000      {many:>10.1f} ms  target < 300 ms {verdict(many < 300)}"
    )

    minutes = 5 if args.quick else args.purge_minutes
    purged, steps, worst, median, worst_flush = await purge_stalls(folder, minutes)
    print(
        f"purge of {purged:,} expired chunks = {10_000 * minutes * 12:,} samples "
        f"(10,000 points x {minutes} min at 5 s) in {steps} steps"
    )
    print(f"  longest purge step                   {worst:>10.1f} ms  target <= 50 ms {verdict(worst <= 50)}")
    print(f"  median purge step                    {median:>10.1f} ms")
    print(f"  longest writer commit meanwhile      {worst_flush:>10.1f} ms  (its samples + a purge step)")
    await print_commit(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run, a small purge backlog")
    parser.add_argument("--commit-only", action="store_true", help="only the commit at 10,000 points")
    parser.add_argument("--purge-minutes", type=int, default=20, help="minutes of expired data to purge")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-store-") as folder:
        print(f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
        asyncio.run(main_async(args, Path(folder)))


if __name__ == "__main__":
    main()
