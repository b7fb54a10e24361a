"""Retention: raw samples and rollups older than their limits are purged a few points at a time.

Each step runs inside one of the writer's transactions and deletes at most `points_per_step` points
x `rows_per_point` raw rows, so a purge of a big backlog is spread over many commits and never stalls
the writer. A cursor walks the point keys in order and wraps around.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import aiosqlite

from hub.store_buckets import ROLLUP_MINUTES

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# At most `rows_per_point` of a point's oldest rows, all older than the cutoff.
_PURGE_RAW = """
DELETE FROM samples WHERE point_key = :key AND ts < min(:cutoff, coalesce(
    (SELECT ts FROM samples WHERE point_key = :key ORDER BY ts LIMIT 1 OFFSET :rows), :cutoff))
"""
_PURGE_ROLLUPS = "DELETE FROM rollups WHERE width_min = ? AND point_key = ? AND bucket_ts < ?"


@dataclass(frozen=True)
class RetentionPolicy:
    """How long raw samples (per point, if overridden) and rollups are kept."""

    raw_hours: float = 24.0
    raw_overrides: Mapping[str, float] | None = None  # point id -> hours
    rollup_days: float = 30.0
    # A step deletes at most 50 x 400 rows (~10 ms here); a commit every 5 s still keeps up with
    # 10,000 points sampled every 5 s (a point is visited every 200 steps, 200 new rows expired).
    points_per_step: int = 50
    rows_per_point: int = 400

    def raw_cutoff(self, point_id: str, now_ms: int) -> int:
        """Raw samples of this point older than this (epoch ms) are purged."""
        hours = (self.raw_overrides or {}).get(point_id, self.raw_hours)
        return now_ms - int(hours * HOUR_MS)


class Purger:
    """Walks the point keys, one small purge step per writer commit."""

    def __init__(self, policy: RetentionPolicy) -> None:
        self.policy = policy
        self._after = 0  # the last point key purged; the next step starts above it
        self.rows_purged = 0

    async def step(self, db: aiosqlite.Connection, now_ms: int, ids: Mapping[int, str]) -> int:
        """Purge a few points' expired rows (the caller commits); `ids` maps keys to point ids."""
        policy = self.policy
        async with db.execute(
            "SELECT key FROM points WHERE key > ? ORDER BY key LIMIT ?", (self._after, policy.points_per_step)
        ) as cursor:
            keys = [row[0] for row in await cursor.fetchall()]
        self._after = keys[-1] if len(keys) == policy.points_per_step else 0
        if not keys:
            return 0
        raw = [
            {"key": key, "cutoff": policy.raw_cutoff(ids.get(key, ""), now_ms), "rows": policy.rows_per_point}
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
