"""Raw samples in the `sample_chunks` table: merging a batch into the chunks, reading a range, rollup rows.

The writer merges each commit's samples into the chunks they belong to (usually each point's newest
chunk, read back and rewritten in the same transaction, so a commit stays atomic). A sample whose
time is already stored replaces it; the rollups of its buckets are then recomputed from the raw
samples instead of merged, so a resent reading is not counted twice.
"""

import asyncio
import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import aiosqlite

from hub.points import Quality, Value
from hub.store_buckets import ROLLUP_MINUTES, bucket_start, coarsen, roll_up
from hub.store_chunks import Sample, decode, merge, pack

QUALITY_CODES = {Quality.GOOD: 0, Quality.UNCERTAIN: 1, Quality.BAD: 2}
QUALITIES = {code: quality for quality, code in QUALITY_CODES.items()}
BAD = QUALITY_CODES[Quality.BAD]  # kept raw, never rolled up
Row = tuple[int, int, Value, int]  # point key, ts ms, value, quality code

# The chunks holding [first, last] of each point: from the last one starting at or before `first`.
_AROUND = """
SELECT c.point_key, c.start, c.data FROM json_each(?) AS j CROSS JOIN sample_chunks AS c
WHERE c.point_key = j.value ->> 0 AND c.start <= j.value ->> 2 AND c.start >= coalesce(
    (SELECT max(start) FROM sample_chunks WHERE point_key = j.value ->> 0 AND start <= j.value ->> 1),
    j.value ->> 1)
"""
_RANGE = """
SELECT start, data FROM sample_chunks WHERE point_key = :key AND start < :end AND start >= coalesce(
    (SELECT max(start) FROM sample_chunks WHERE point_key = :key AND start <= :start), :start)
ORDER BY start LIMIT :limit
"""
_UPSERT_CHUNK = "INSERT OR REPLACE INTO sample_chunks (point_key, start, data) VALUES (?, ?, ?)"
_DELETE_CHUNK = "DELETE FROM sample_chunks WHERE point_key = ? AND start = ?"
_UPSERT_ROLLUPS = """
INSERT INTO rollups (width_min, point_key, bucket_ts, min, max, sum, count, last, last_ts)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (width_min, point_key, bucket_ts) DO UPDATE SET
    min = min(rollups.min, excluded.min), max = max(rollups.max, excluded.max),
    sum = rollups.sum + excluded.sum, count = rollups.count + excluded.count,
    last = CASE WHEN excluded.last_ts >= rollups.last_ts THEN excluded.last ELSE rollups.last END,
    last_ts = max(rollups.last_ts, excluded.last_ts)
"""
_REPLACE_ROLLUP = "INSERT OR REPLACE INTO rollups VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_DELETE_ROLLUP = "DELETE FROM rollups WHERE width_min = ? AND point_key = ? AND bucket_ts = ?"
_WIDEST = max(ROLLUP_MINUTES)


@dataclass(frozen=True)
class _Plan:
    """What a batch changes: chunk rows to write and delete, rollup increments, buckets to recompute."""

    upserts: list[tuple[int, int, bytes]]
    deletes: list[tuple[int, int]]
    rollups: list[tuple]
    replaced: set[tuple[int, int]]  # (point key, start of its widest bucket)


async def write(db: aiosqlite.Connection, rows: Sequence[Row]) -> None:
    """Merge a batch into the chunks and the rollups (inside the caller's transaction).

    The packing runs in a worker thread: thousands of points a commit would otherwise hold the event loop.
    """
    batches: dict[int, list[Sample]] = defaultdict(list)
    for key, ts, value, quality in rows:
        batches[key].append((ts, value, quality))
    ranges = [[key, min(s[0] for s in batch), max(s[0] for s in batch)] for key, batch in batches.items()]
    async with db.execute(_AROUND, (json.dumps(ranges),)) as cursor:
        found = await cursor.fetchall()
    plan = await asyncio.to_thread(_plan, batches, found)
    await db.executemany(_DELETE_CHUNK, plan.deletes)
    await db.executemany(_UPSERT_CHUNK, plan.upserts)
    await db.executemany(_UPSERT_ROLLUPS, plan.rollups)
    await _recompute(db, plan.replaced)


def _plan(batches: dict[int, list[Sample]], found: Iterable[tuple[int, int, bytes]]) -> _Plan:
    stored: dict[int, dict[int, bytes]] = defaultdict(dict)
    for key, start, data in found:
        stored[key][start] = data
    upserts, deletes, added = [], [], []
    replaced: set[tuple[int, int]] = set()
    for key, batch in batches.items():
        chunks = stored.get(key, {})
        merged = merge(
            [sample for start, data in sorted(chunks.items()) for sample in decode(start, data)], batch
        )
        replaced.update((key, bucket_start(ts, _WIDEST)) for ts in merged.replaced)
        packed = pack(merged.samples)
        upserts.extend((key, start, data) for start, data in packed if chunks.get(start) != data)
        kept = {start for start, _ in packed}
        deletes.extend((key, start) for start in chunks if start not in kept)
        added.extend((key, ts, value) for ts, value, quality in batch if quality != BAD)
    if replaced:  # their rollups are recomputed from the stored samples instead
        added = [row for row in added if (row[0], bucket_start(row[1], _WIDEST)) not in replaced]
    return _Plan(upserts, deletes, rollup_rows(added), replaced)


async def _recompute(db: aiosqlite.Connection, buckets: Iterable[tuple[int, int]]) -> None:
    """Set the rollups of these (point key, widest bucket) from the raw samples they now hold."""
    width = _WIDEST * 60_000
    for key, start in buckets:
        samples = await read(db, key, start, start + width)
        await db.executemany(
            _DELETE_ROLLUP,
            [
                (minutes, key, bucket)
                for minutes in ROLLUP_MINUTES
                for bucket in range(start, start + width, minutes * 60_000)
            ],
        )
        await db.executemany(
            _REPLACE_ROLLUP,
            rollup_rows((key, ts, value) for ts, value, quality in samples if quality != BAD),
        )


def rollup_rows(samples: Iterable[tuple[int, int, Value]]) -> list[tuple]:
    """Rollups of every stored width of (point key, ts, value) samples, as rows of the rollups table."""
    finest = roll_up(samples, ROLLUP_MINUTES[0])
    out = []
    for minutes in ROLLUP_MINUTES:
        buckets = finest if minutes == ROLLUP_MINUTES[0] else coarsen(finest, minutes)
        out.extend(
            (minutes, key, r.start, r.min, r.max, r.sum, r.count, r.last, r.last_ts)
            for (key, _), r in buckets.items()
        )
    return out


async def read(db: aiosqlite.Connection, key: int, start: int, end: int, limit: int = -1) -> list[Sample]:
    """One point's samples with start <= ts < end, oldest first (from at most `limit` chunks)."""
    async with db.execute(_RANGE, {"key": key, "start": start, "end": end, "limit": limit}) as cursor:
        chunks = await cursor.fetchall()
    samples = [sample for chunk_start, data in chunks for sample in decode(chunk_start, data)]
    return clip(samples, start, end)


def clip(samples: list[Sample], start: int, end: int) -> list[Sample]:
    """The time-ordered samples with start <= ts < end."""
    if samples and (samples[0][0] < start or samples[-1][0] >= end):
        times = [sample[0] for sample in samples]
        return samples[bisect_left(times, start) : bisect_left(times, end)]
    return samples


async def convert_samples(db: aiosqlite.Connection, page: int = 10_000) -> None:
    """Pack the rows of the old one-sample-per-row `samples` table into `sample_chunks` (a migration)."""
    key, samples = None, []
    async with db.execute(
        "SELECT point_key, ts, value, quality FROM samples ORDER BY point_key, ts"
    ) as cursor:
        while rows := await cursor.fetchmany(page):
            chunks = []
            for row_key, ts, value, quality in rows:
                if row_key != key and samples:
                    chunks.extend((key, start, data) for start, data in pack(samples))
                    samples = []
                key = row_key
                samples.append((ts, value, quality))
            await db.executemany(_UPSERT_CHUNK, chunks)
    if samples:
        await db.executemany(_UPSERT_CHUNK, [(key, start, data) for start, data in pack(samples)])
