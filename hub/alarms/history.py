"""Alarm events in the store's append-only events table (kind `alarm`, subject the alarm id).

Transitions are applied in memory at once (callers stay synchronous and cheap) and appended by one
supervised task; on start the whole alarm history is read back to rebuild the projection.
"""

import asyncio
import contextlib
import json
import logging
from collections import deque

from hub.alarms.model import AlarmEvent
from hub.store_tables import Database

_LOGGER = logging.getLogger(__name__)

KIND = "alarm"
QUEUE_LIMIT = 10_000  # events held while the disk cannot take them; beyond, dropped and counted
_INSERT = "INSERT INTO events (ts, kind, subject, data) VALUES (?, ?, ?, ?)"


class AlarmHistory:
    """Appends alarm events in order and reads them back."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: deque[AlarmEvent] = deque()
        self._wake = asyncio.Event()
        self._writing: asyncio.Future[None] | None = None
        self._lock = asyncio.Lock()  # a read sees each event once: in the table or in the queue
        self.dropped = 0
        self.written = 0

    async def load(self) -> list[AlarmEvent]:
        """Every stored alarm event, oldest first; a row this hub cannot read is logged and skipped."""
        sql = "SELECT id, data FROM events WHERE kind = ? ORDER BY id"
        async with self._db.reader.execute(sql, (KIND,)) as cursor:
            rows = await cursor.fetchall()
        return [event for row in rows if (event := _decode(row[0], row[1])) is not None]

    async def of_alarm(self, alarm_id: str) -> list[AlarmEvent]:
        """One alarm's stored events, oldest first, then those not written yet."""
        sql = "SELECT id, data FROM events WHERE kind = ? AND subject = ? ORDER BY id"
        async with self._lock:
            async with self._db.reader.execute(sql, (KIND, alarm_id)) as cursor:
                rows = await cursor.fetchall()
            queued = [event for event in self._queue if event.alarm_id == alarm_id]
        return [event for row in rows if (event := _decode(row[0], row[1])) is not None] + queued

    def append(self, event: AlarmEvent) -> None:
        """Queue `event` for the writer (O(1), never blocks)."""
        if len(self._queue) >= QUEUE_LIMIT:
            self.dropped += 1
            return
        self._queue.append(event)
        self._wake.set()

    def queued(self) -> tuple[AlarmEvent, ...]:
        """Events not written yet, oldest first."""
        return tuple(self._queue)

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def run(self) -> None:
        """The writer task: append whatever is queued, in one transaction per wake-up."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            # Shielded: cancelling the task between BEGIN and COMMIT would leave the store's writer stuck.
            self._writing = asyncio.ensure_future(self.flush())
            await asyncio.shield(self._writing)

    async def drain(self) -> None:
        """After the task is cancelled: let a write in progress end, then write what is left."""
        if self._writing is not None:
            with contextlib.suppress(Exception):  # a failed write stays queued for the flush below
                await self._writing
            self._writing = None
        await self.flush()

    async def flush(self) -> None:
        """Write every queued event; on an error they stay queued (the supervisor retries the task)."""
        async with self._lock:
            events = list(self._queue)
            if not events:
                return
            rows = [
                (int(e.timestamp * 1000), KIND, e.alarm_id, json.dumps(e.as_json(), default=str))
                for e in events
            ]
            async with self._db.transaction() as db:
                await db.executemany(_INSERT, rows)
            for _ in events:
                self._queue.popleft()
            self.written += len(events)


def _decode(row_id: int, data: str) -> AlarmEvent | None:
    try:
        return AlarmEvent.from_json(json.loads(data))
    except (ValueError, KeyError, TypeError) as err:
        _LOGGER.error(
            "skipping stored alarm event %d this hub cannot read: %s: %s", row_id, type(err).__name__, err
        )
        return None
