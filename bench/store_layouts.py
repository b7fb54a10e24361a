"""Bytes per sample of the samples table under other layouts and write patterns, for issue 7's <= 25 target.

Run from the repository root:

    .venv/bin/python bench/store_layouts.py     # a few minutes; medians of 3 runs

Method: each variant fills a fresh file with the rows bench/store.py uses (500,000 samples of
1,000 points, one per point per second, millisecond times, non-integral floats, good quality) with
plain sqlite3 (WAL, synchronous=NORMAL), 10,000 samples a commit unless the variant says otherwise,
then prints the table's bytes per sample (dbstat pages / samples), its unused bytes per sample, and
the insert rate. The first variants store one sample a row (the store's layout before migration
m003; "one sample a row, time order" is what its writer did), each changing one thing. The last
ones are the chunk layout of hub/store_chunks.py with chunks of different sizes, written as the
store's writer does: each commit rewrites every point's newest chunk.
"""

import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from store import BATCH, POINTS, rows_for

from hub.store_chunks import Sample, pack

COUNT = 500_000
Row = tuple[int, int, float, int]  # point key, ts ms, value, quality
KEYED = "(point_key INTEGER NOT NULL, ts INTEGER NOT NULL, value, quality INTEGER NOT NULL, {}) WITHOUT ROWID"
PRIMARY = "PRIMARY KEY (point_key, ts)"


def by_key(batch: list[tuple]) -> list[tuple]:
    """Sorted by the table's key: its first column(s), which the variants keep first."""
    return sorted(batch, key=lambda row: row[:2])


def as_rowid(row: Row) -> tuple:
    """A rowid table's row: the key packed as point << 42 | ts (ms up to year 2109)."""
    return ((row[0] << 42) | row[1], row[2], row[3])


@dataclass(frozen=True)
class Variant:
    """One layout or write pattern: the table, page size, samples per commit, their order and shape."""

    name: str
    table: str = KEYED.format(PRIMARY)
    page_size: int = 4096
    batch: int = BATCH
    order: Callable[[list[tuple]], list[tuple]] = list
    shape: Callable[[Row], tuple] = tuple


CHUNK_TABLE = (
    "(point_key INTEGER NOT NULL, start INTEGER NOT NULL, data BLOB NOT NULL, "
    "PRIMARY KEY (point_key, start)) WITHOUT ROWID"
)
CHUNK_SIZES = (16, 32, 64, 128)
ROWID_TABLE = "(id INTEGER PRIMARY KEY, value, quality INTEGER NOT NULL)"
VARIANTS = (
    Variant("one sample a row, time order (4 KB pages)"),
    Variant("each commit sorted by (point, ts)", order=by_key),
    Variant("8 KB pages", page_size=8192),
    Variant("16 KB pages", page_size=16384),
    Variant("64 KB pages", page_size=65536),
    Variant(
        "no quality column",
        table=f"(point_key INTEGER NOT NULL, ts INTEGER NOT NULL, value, {PRIMARY}) WITHOUT ROWID",
        shape=lambda row: row[:3],
    ),
    Variant("250 samples a point per commit, sorted", batch=250 * POINTS, order=by_key),
    Variant("everything in one sorted transaction", batch=COUNT, order=by_key),
    Variant("rowid table, key point << 42 | ts, time order", table=ROWID_TABLE, shape=as_rowid),
    Variant(
        "rowid table, appended in key order (one tx)",
        table=ROWID_TABLE,
        batch=COUNT,
        order=by_key,
        shape=as_rowid,
    ),
)


def fill(path: Path, variant: Variant) -> tuple[float, float, float]:
    """Rows/s, bytes per sample and unused bytes per sample of the samples table."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"PRAGMA page_size={variant.page_size}")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"CREATE TABLE samples {variant.table}")
    rows = [variant.shape(row) for row in rows_for(COUNT, int(time.time() * 1000))]
    insert = f"INSERT OR REPLACE INTO samples VALUES ({', '.join('?' * len(rows[0]))})"
    started = time.perf_counter()
    for begin in range(0, COUNT, variant.batch):
        db.execute("BEGIN")
        db.executemany(insert, variant.order(rows[begin : begin + variant.batch]))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    size, unused = db.execute("SELECT sum(pgsize), sum(unused) FROM dbstat WHERE name = 'samples'").fetchone()
    db.close()
    return COUNT / elapsed, size / COUNT, unused / COUNT


def fill_chunks(path: Path, size: int) -> tuple[float, float, float]:
    """Like `fill`, in the chunk layout: each commit packs every point's open chunk with its new samples."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"CREATE TABLE sample_chunks {CHUNK_TABLE}")
    rows = rows_for(COUNT, int(time.time() * 1000))
    open_chunks: dict[int, list[Sample]] = {}
    started = time.perf_counter()
    for begin in range(0, COUNT, BATCH):
        batches: dict[int, list[Sample]] = defaultdict(list)
        for key, ts, value, quality in rows[begin : begin + BATCH]:
            batches[key].append((ts, value, quality))
        upserts = []
        for key, batch in batches.items():
            merged = open_chunks.get(key, []) + batch
            chunks = pack(merged, size)
            upserts.extend((key, start, data) for start, data in chunks)
            open_chunks[key] = [sample for sample in merged if sample[0] >= chunks[-1][0]]
        db.execute("BEGIN")
        db.executemany("INSERT OR REPLACE INTO sample_chunks VALUES (?, ?, ?)", upserts)
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    size_bytes, unused = db.execute(
        "SELECT sum(pgsize), sum(unused) FROM dbstat WHERE name = 'sample_chunks'"
    ).fetchone()
    db.close()
    return COUNT / elapsed, size_bytes / COUNT, unused / COUNT


def main() -> None:
    print(f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"{COUNT:,} samples of {POINTS:,} points, median of 3 runs")
    print(f"  {'variant':<48} {'bytes/sample':>12} {'unused':>7} {'rows/s':>10}")
    with tempfile.TemporaryDirectory(prefix="bench-layouts-") as folder:
        for number, variant in enumerate(VARIANTS):
            runs = [fill(Path(folder) / f"v{number}-{run}.db", variant) for run in range(3)]
            rate, size, unused = (statistics.median(figures) for figures in zip(*runs, strict=True))
            print(f"  {variant.name:<48} {size:>12.2f} {unused:>7.2f} {rate:>10,.0f}")
        for chunk_size in CHUNK_SIZES:
            runs = [fill_chunks(Path(folder) / f"c{chunk_size}-{run}.db", chunk_size) for run in range(3)]
            rate, size, unused = (statistics.median(figures) for figures in zip(*runs, strict=True))
            name = f"chunks of up to {chunk_size} samples"
            print(f"  {name:<48} {size:>12.2f} {unused:>7.2f} {rate:>10,.0f}")


if __name__ == "__main__":
    main()
