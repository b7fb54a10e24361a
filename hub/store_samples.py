"""Raw samples in the `sample_chunks` table: merging a batch into the chunks, reading a range, rollup rows.

The writer merges each commit's samples into the chunks they belong to (usually each point's newest
chunk, rewritten in the same transaction, so a commit stays atomic). The newest chunk of each point
is kept in memory as committed (`OpenChunks`), so the usual commit appends to it without reading it
back; only late samples (older than that chunk) read their chunks from the file. A sample whose
time is already stored replaces it; the rollups of its buckets are then recomputed from the raw
samples instead of merged, so a resent reading is not counted twice.
"""

import asyncio
import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from hub.points import Quality, Value
from hub.store_buckets import ROLLUP_MINUTES, bucket_start, coarsen, roll_up
from hub.store_chunks import Sample, append, decode, merge, pack

QUALITY_CODES = {Quality.GOOD: 0, Quality.UNCERTAIN: 1, Quality.BAD: 2}
QUALITIES = {code: quality for quality, code in QUALITY_CODES.items()}
BAD = QUALITY_CODES[Quality.BAD]  # kept raw, never rolled up

# The chunks holding [first, last] of each point: from the last one starting at or before `first`.
_AROUND = """
SELECT c.point_key, c.start, c.data FROM json_each(?) AS j CROSS JOIN sample_chunks AS c
WHERE c.point_key = j.value ->> 0 AND c.start <= j.value ->> 2 AND c.start >= coalesce(
    (SELECT max(start) FROM sample_chunks WHERE point_key = j.value ->> 0 AND start <= j.value ->> 1),
    j.value ->> 1)
"""
# The newest chunk of each point (SQLite returns the row holding the max()).
_NEWEST = """
SELECT c.point_key, max(c.start), c.data FROM json_each(?) AS j CROSS JOIN sample_chunks AS c
WHERE c.point_key = j.value GROUP BY c.point_key
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


Chunk = tuple[int, bytes]  # start, blob


class OpenChunks:
    """Each point's newest chunk as committed, so a commit appends to it without reading it back.

    Only a cache of what is committed: a commit's changes are applied after its COMMIT, a failed one
    forgets everything, and a point not held (after a start, or a purge) is loaded with its next batch.
    Bounded: at most one chunk (under 1 KB) per point.
    """

    def __init__(self) -> None:
        self._chunks: dict[int, Chunk | None] = {}  # None: the point has no chunk stored

    def get(self, key: int) -> Chunk | None:
        return self._chunks[key]

    def missing(self, keys: Iterable[int]) -> list[int]:
        return [key for key in keys if key not in self._chunks]

    def loaded(self, keys: Iterable[int], found: Iterable[tuple[int, int, bytes]]) -> None:
        """Hold what the file has for these points: their newest chunk (as read), or none."""
        self._chunks.update(dict.fromkeys(keys))
        self._chunks.update((key, (start, data)) for key, start, data in found)

    def committed(self, newest: dict[int, Chunk]) -> None:
        self._chunks.update(newest)

    def forget(self, keys: Iterable[int] | None = None) -> None:
        """Drop these points (all when None): their next batch reads the file again."""
        if keys is None:
            self._chunks.clear()
        for key in keys or ():
            self._chunks.pop(key, None)


@dataclass(frozen=True)
class _Plan:
    """What a batch changes: chunk rows to write and delete, rollup increments, buckets to recompute."""

    upserts: list[tuple[int, int, bytes]]
    deletes: list[tuple[int, int]]
    rollups: list[tuple]
    replaced: set[tuple[int, int]]  # (point key, start of its widest bucket)
    newest: dict[int, Chunk]  # each point's newest chunk once committed (OpenChunks.committed)


async def write(db: aiosqlite.Connection, batches: dict[int, list[Sample]], chunks: OpenChunks) -> _Plan:
    """Merge a batch (samples by point key) into the chunks and the rollups (inside the caller's transaction).

    Returns the plan: the caller hands `plan.newest` to `chunks.committed` once the transaction commits.
    The merging runs in a worker thread: thousands of points a commit would otherwise hold the event loop.
    """
    if missing := chunks.missing(batches):
        async with db.execute(_NEWEST, (json.dumps(missing),)) as cursor:
            chunks.loaded(missing, await cursor.fetchall())
    late = await asyncio.to_thread(_late, batches, chunks)
    found: list[tuple[int, int, bytes]] = []
    if late:
        async with db.execute(_AROUND, (json.dumps(late),)) as cursor:
            found = list(await cursor.fetchall())
    plan = await asyncio.to_thread(_plan, batches, chunks, found)
    await db.executemany(_DELETE_CHUNK, plan.deletes)
    await db.executemany(_UPSERT_CHUNK, plan.upserts)
    await db.executemany(_UPSERT_ROLLUPS, plan.rollups)
    await _recompute(db, plan.replaced)
    return plan


def _late(batches: dict[int, list[Sample]], chunks: OpenChunks) -> list[list[int]]:
    """[key, oldest, newest] of the points whose batch reaches before their newest chunk."""
    late = []
    for key, batch in batches.items():
        newest = chunks.get(key)
        oldest = min(sample[0] for sample in batch)
        if newest is not None and oldest < newest[0]:
            late.append([key, oldest, max(sample[0] for sample in batch)])
    return late


def _plan(
    batches: dict[int, list[Sample]], chunks: OpenChunks, found: Iterable[tuple[int, int, bytes]]
) -> _Plan:
    stored: dict[int, dict[int, bytes]] = defaultdict(dict)
    for key, start, data in found:
        stored[key][start] = data
    upserts, deletes, added = [], [], []
    newest: dict[int, Chunk] = {}
    replaced: set[tuple[int, int]] = set()
    for key, batch in batches.items():
        held = chunks.get(key)
        added.extend((key, ts, value) for ts, value, quality in batch if quality != BAD)
        if held is not None and key not in stored and (spliced := append(*held, batch)) is not None:
            upserts.append((key, held[0], spliced))  # the usual case: newer samples onto the newest chunk
            newest[key] = (held[0], spliced)
            continue
        # late samples: the chunks they fall in, read from the file; else the newest chunk held
        around = stored.get(key) or dict([held] if held else [])
        merged = merge(
            [sample for start, data in sorted(around.items()) for sample in decode(start, data)], batch
        )
        replaced.update((key, bucket_start(ts, _WIDEST)) for ts in merged.replaced)
        packed = pack(merged.samples)
        upserts.extend((key, start, data) for start, data in packed if around.get(start) != data)
        kept = {start for start, _ in packed}
        deletes.extend((key, start) for start in around if start not in kept)
        if held is None or held[0] in around:  # else only older chunks changed
            newest[key] = packed[-1]
    if replaced:  # their rollups are recomputed from the stored samples instead
        added = [row for row in added if (row[0], bucket_start(row[1], _WIDEST)) not in replaced]
    return _Plan(upserts, deletes, rollup_rows(added), replaced, newest)


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
