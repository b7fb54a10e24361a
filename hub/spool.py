"""Store-and-forward spool: outgoing QoS 1 messages kept in SQLite until the upstream broker has them.

The bridge appends every QoS 1 message it sends up and removes it once acknowledged, so messages
survive an unreachable upstream broker and a hub restart, and go up in the order they were made.
The spool is bounded by message count, bytes and age; beyond a bound the oldest messages are dropped
first and counted. It is its own SQLite file, independent of the time-series store.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from hub.config import SpoolConfig

_LOGGER = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queued_at REAL NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    retain INTEGER NOT NULL,
    size INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class Outgoing:
    """A message on its way up."""

    topic: str
    payload: bytes
    retain: bool = False


@dataclass(frozen=True)
class SpooledMessage:
    """A message in the spool; `seq` gives the order it goes up in."""

    seq: int
    topic: str
    payload: bytes
    retain: bool
    queued_at: float


class Spool:
    """An ordered, bounded queue of messages in one SQLite file."""

    def __init__(self, path: Path, config: SpoolConfig, clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._config = config
        self._clock = clock
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()  # a count and the delete it leads to happen together
        self.depth = 0
        self.bytes = 0
        self.oldest_at: float | None = None
        self.dropped = 0  # messages dropped by a bound since the hub started

    async def open(self) -> None:
        """Open (or create) the file and count what an earlier run left in it."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self._path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=NORMAL")
        await self._db.execute(_SCHEMA)
        await self._db.commit()
        await self._recount()
        if self.depth:
            _LOGGER.info("spool %s holds %d messages from an earlier run", self._path, self.depth)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the spool is not open")
        return self._db

    def oldest_age(self) -> float | None:
        """Seconds the oldest message has waited, or None when the spool is empty."""
        return None if self.oldest_at is None else max(0.0, self._clock() - self.oldest_at)

    async def append(self, messages: Sequence[Outgoing]) -> None:
        """Add messages at the end, then enforce the bounds."""
        if not messages:
            return
        now = self._clock()
        rows = [(now, m.topic, m.payload, int(m.retain), len(m.topic) + len(m.payload)) for m in messages]
        async with self._lock:
            await self.db.executemany(
                "INSERT INTO spool (queued_at, topic, payload, retain, size) VALUES (?, ?, ?, ?, ?)", rows
            )
            await self.db.commit()
            self.depth += len(rows)
            self.bytes += sum(row[4] for row in rows)
            if self.oldest_at is None:
                self.oldest_at = now
            await self._enforce_bounds()

    async def peek(self, limit: int) -> list[SpooledMessage]:
        """The oldest `limit` messages, oldest first; they stay until `remove_through`."""
        async with self._lock:
            await self._drop_expired()
            cursor = await self.db.execute(
                "SELECT seq, topic, payload, retain, queued_at FROM spool ORDER BY seq LIMIT ?", (limit,)
            )
            rows = await cursor.fetchall()
        return [
            SpooledMessage(seq, topic, bytes(payload), bool(retain), at)
            for seq, topic, payload, retain, at in rows
        ]

    async def remove_through(self, seq: int) -> None:
        """Forget every message up to and including `seq` (the upstream broker has them)."""
        async with self._lock:
            await self._delete_through(seq)

    async def _enforce_bounds(self) -> None:
        config = self._config
        await self._drop_expired()
        if self.depth <= config.max_messages and self.bytes <= config.max_bytes:
            return
        excess_count = self.depth - config.max_messages
        excess_bytes = self.bytes - config.max_bytes
        cut, count, size = None, 0, 0
        async with self.db.execute("SELECT seq, size FROM spool ORDER BY seq") as cursor:
            async for seq, row_size in cursor:
                if count >= excess_count and size >= excess_bytes:
                    break
                cut, count, size = seq, count + 1, size + row_size
        if cut is not None:
            self._count_dropped(await self._delete_through(cut), "over max_messages or max_bytes")

    async def _drop_expired(self) -> None:
        cutoff = self._clock() - self._config.max_age
        if self.oldest_at is None or self.oldest_at >= cutoff:
            return
        cursor = await self.db.execute("SELECT max(seq) FROM spool WHERE queued_at < ?", (cutoff,))
        row = await cursor.fetchone()
        if row is not None and row[0] is not None:
            self._count_dropped(await self._delete_through(row[0]), "older than max_age")

    async def _delete_through(self, seq: int) -> int:
        cursor = await self.db.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM spool WHERE seq <= ?", (seq,)
        )
        count, size = await cursor.fetchone()  # type: ignore[misc]
        await self.db.execute("DELETE FROM spool WHERE seq <= ?", (seq,))
        await self.db.commit()
        self.depth -= count
        self.bytes -= size
        cursor = await self.db.execute("SELECT queued_at FROM spool ORDER BY seq LIMIT 1")
        row = await cursor.fetchone()
        self.oldest_at = row[0] if row is not None else None
        return int(count)

    def _count_dropped(self, count: int, why: str) -> None:
        self.dropped += count
        _LOGGER.warning(
            "spool: dropped the %d oldest messages, %s (%d since start)", count, why, self.dropped
        )

    async def _recount(self) -> None:
        cursor = await self.db.execute("SELECT count(*), coalesce(sum(size), 0), min(queued_at) FROM spool")
        self.depth, self.bytes, self.oldest_at = await cursor.fetchone()  # type: ignore[misc]
