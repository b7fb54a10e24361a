"""Retention: raw samples, rollups and events older than their limits are purged a little at a time.

Each step runs inside one of the writer's transactions and deletes at most `points_per_step` points
x `chunks_per_point` sample chunks and `events_per_step` events, so a purge of a big backlog is
spread over many commits and never stalls the writer. One cursor walks the point keys in order,
another the events in time order; both wrap around. A chunk is deleted whole once all of it is past
the horizon (its start is `CHUNK_SPAN_MS` before it), so raw samples are kept for up to 30 minutes
longer than their limit. An event past its horizon is kept while a service still needs it (an open
alarm's history: see `Purger.protect`).
"""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiosqlite

from hub.migrations import EVENTS_DELETABLE_AFTER_S
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
# The next events past the cutoff after the last one looked at, oldest first (the ts index).
_OLD_EVENTS = """
SELECT id, ts, kind, subject FROM events WHERE ts < :cutoff AND (ts, id) > (:ts, :id)
ORDER BY ts, id LIMIT :rows
"""
_DELETE_EVENT = "DELETE FROM events WHERE id = ?"
_START = (-1, -1)  # (ts, id) before every event


@dataclass(frozen=True)
class RetentionPolicy:
    """How long raw samples (per point, if overridden), rollups and events are kept."""

    raw_hours: float = 24.0
    raw_overrides: Mapping[str, float] | None = None  # point id -> hours
    rollup_days: float = 30.0
    event_days: float = 30.0
    # A step deletes at most 50 x 20 chunks (up to 64,000 samples); a commit every 5 s still keeps
    # up with 10,000 points sampled every 5 s (a point is visited every 200 steps, 4 chunks expired).
    points_per_step: int = 50
    chunks_per_point: int = 20
    # 500 events a step, 8.6 million a day at a commit every 5 s: far above any site's audit rate.
    events_per_step: int = 500

    def raw_cutoff(self, point_id: str, now_ms: int) -> int:
        """Chunks of this point starting before this (epoch ms) hold only expired samples and are purged."""
        hours = (self.raw_overrides or {}).get(point_id, self.raw_hours)
        return now_ms - int(hours * HOUR_MS) - CHUNK_SPAN_MS

    def event_cutoff(self, now_ms: int) -> int:
        """Events before this (epoch ms) are purged; never within the delete trigger's first day.

        The trigger judges by the database's wall clock, the hub by its own: a step must not abort
        the writer's transaction if the two disagree.
        """
        deletable = int((time.time() - EVENTS_DELETABLE_AFTER_S - 60) * 1000)
        return min(now_ms - int(self.event_days * DAY_MS), deletable)


class Purger:
    """Walks the point keys and the events, one small purge step per writer commit."""

    def __init__(self, policy: RetentionPolicy) -> None:
        self.policy = policy
        self._after = 0  # the last point key purged; the next step starts above it
        self._events_after = _START  # (ts, id) of the last event looked at
        self._keep: dict[str, Callable[[str], bool]] = {}
        self.rows_purged = 0
        self.events_purged = 0
        self.visited: list[int] = []  # the point keys of the last step

    def protect(self, kind: str, keep: Callable[[str], bool]) -> None:
        """Keep expired events of `kind` whose subject `keep` says a service still needs."""
        self._keep[kind] = keep

    async def step(self, db: aiosqlite.Connection, now_ms: int, ids: Mapping[int, str]) -> int:
        """Purge a few points' expired rows and a few expired events (the caller commits).

        `ids` maps point keys to point ids.
        """
        return await self._samples(db, now_ms, ids) + await self._events(db, now_ms)

    async def _events(self, db: aiosqlite.Connection, now_ms: int) -> int:
        rows = self.policy.events_per_step
        ts, id_ = self._events_after
        args = {"cutoff": self.policy.event_cutoff(now_ms), "ts": ts, "id": id_, "rows": rows}
        async with db.execute(_OLD_EVENTS, args) as cursor:
            found = await cursor.fetchall()
        self._events_after = (found[-1][1], found[-1][0]) if len(found) == rows else _START
        keep = self._keep
        expired = [(id_,) for id_, _, kind, subject in found if not (kind in keep and keep[kind](subject))]
        await db.executemany(_DELETE_EVENT, expired)
        self.events_purged += len(expired)
        self.rows_purged += len(expired)
        return len(expired)

    async def _samples(self, db: aiosqlite.Connection, now_ms: int, ids: Mapping[int, str]) -> int:
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
