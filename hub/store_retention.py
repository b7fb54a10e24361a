"""Retention: raw samples and rollups older than their limits are purged a few points at a time.

Each step runs inside one of the writer's transactions and deletes at most `points_per_step` points
x `chunks_per_point` sample chunks, so a purge of a big backlog is spread over many commits and never
stalls the writer. A cursor walks the point keys in order and wraps around. A chunk is deleted whole
once all of it is past the horizon (its start is `CHUNK_SPAN_MS` before it), so raw samples are kept
for up to 30 minutes longer than their limit.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import aiosqlite

from hub.store_buckets import ROLLUP_MINUTES
from hub.store_chunks import CHUNK_SPAN_MS

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# At most `chunks` of a point's oldest chunks, all starting before the cutoff.
_PURGE_RAW = """
DELETE FROM sample_chunks WHERE point_key = :key AND start < min(:cutoff, coalesce(
    (SELECT start FROM sample_chunks WHERE point_key = :key ORDER BY start LIMIT 1 OFFSET :chunks), :cutoff))
"""
_PURGE_ROLLUPS = "DELETE FROM rollups WHERE width_min = ? AND point_key = ? AND bucket_ts < ?"


@dataclass(frozen=True)
class RetentionPolicy:
    """How long raw samples (per point, if overridden) and rollups are kept."""

    raw_hours: float = 24.0
    raw_overrides: Mapping[str, float] | None = None  # point id -> hours
    rollup_days: float = 30.0
    # A step deletes at most 50 x 20 chunks (up to 64,000 samples); a commit every 5 s still keeps
    # up with 10,000 points sampled every 5 s (a point is visited every 200 steps, 4 chunks expired).
    points_per_step: int = 50
    chunks_per_point: int = 20

    def raw_cutoff(self, point_id: str, now_ms: int) -> int:
        """Chunks of this point starting before this (epoch ms) hold only expired samples and are purged."""
        hours = (self.raw_overrides or {}).get(point_id, self.raw_hours)
        return now_ms - int(hours * HOUR_MS) - CHUNK_SPAN_MS


class Purger:
    """Walks the point keys, one small purge step per writer commit."""

    def __init__(self, policy: RetentionPolicy) -> None:
        self.policy = policy
        self._after = 0  # the last point key purged; the next step starts above it
        self.rows_purged = 0
        self.visited: list[int] = []  # the point keys of the last step

    async def step(self, db: aiosqlite.Connection, now_ms: int, ids: Mapping[int, str]) -> int:
        """Purge a few points' expired rows (the caller commits); `ids` maps keys to point ids."""
        policy = self.policy
        async with db.execute(
            "SELECT key FROM points WHERE key > ? ORDER BY key LIMIT ?", (self._after, policy.points_per_step)
        ) as cursor:
            keys = [row[0] for row in await cursor.fetchall()]
        self._after = keys[-1] if len(keys) == policy.points_per_step else 0
        self.visited = keys
        if not keys:
            return 0
        raw = [
            {
                "key": key,
                "cutoff": policy.raw_cutoff(ids.get(key, ""), now_ms),
                "chunks": policy.chunks_per_point,
            }
            for key in keys
        ]
        before = db.total_changes
        await db.executemany(_PURGE_RAW, raw)
        rollup_cutoff = now_ms - int(policy.rollup_days * DAY_MS)
        await db.executemany(
            _PURGE_ROLLUPS, [(width, key, rollup_cutoff) for width in ROLLUP_MINUTES for key in keys]
        )
        deleted = db.total_changes - before
        self.rows_purged += deleted
        return deleted
