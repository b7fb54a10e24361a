"""Each connection's activity log, kept in the store's append-only events (kind `bms.<type>`, subject the id).

It cannot flood the database: `message_received` is one entry per connection per minute with the
count of messages and readings, and every other type is capped per connection per minute (what is
over the cap is counted in the next `message_received` entry as `suppressed`). Entries are
queued and written in one transaction by `flush()`, which reads also call first.
"""

import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.alarms.activity import EventQuery, query_events
from hub.bms.model import SEVERITIES, EventType, Severity
from hub.store_tables import Database, EventRow, StoredEvent

KIND_PREFIX = "bms."
MINUTE_S = 60.0
CAP_PER_MINUTE = 20  # entries of one type (other than message_received) per connection per minute
PENDING_LIMIT = 10_000  # entries queued while the database cannot be written; more are dropped
_INSERT = "INSERT INTO events (ts, kind, subject, data) VALUES (?, ?, ?, ?)"


@dataclass(frozen=True)
class ActivityFilter:
    """Which entries of one connection, newest first; empty sets match everything."""

    types: frozenset[EventType] = frozenset()
    severities: frozenset[Severity] = frozenset()
    since: float | None = None
    until: float | None = None
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True)
class ActivityEntry:
    id: int
    timestamp: float
    type: EventType
    severity: Severity
    message: str
    detail: dict[str, object]


@dataclass
class _Minute:
    """Messages received by one connection in the current minute."""

    start: float
    messages: int = 0
    readings: int = 0
    suppressed: int = 0
    capped: dict[EventType, int] = field(default_factory=lambda: defaultdict(int))


class ActivityLog:
    """Records entries for connections and reads them back with filters and pages."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        self._pending: list[EventRow] = []
        self._minutes: dict[str, _Minute] = {}
        self.dropped = 0  # entries lost because the queue was full

    def record(self, connection_id: str, kind: EventType, message: str, **detail: object) -> None:
        """Queue one entry (dropped and counted when its type is over the cap for this minute)."""
        now = self._clock()
        minute = self._minute(connection_id, now)
        minute.capped[kind] += 1
        if minute.capped[kind] > CAP_PER_MINUTE:
            minute.suppressed += 1
            return
        self._queue(connection_id, now, kind, message, detail)

    def received(self, connection_id: str, readings: int) -> None:
        """Count one message (aggregated into a `message_received` entry per minute)."""
        minute = self._minute(connection_id, self._clock())
        minute.messages += 1
        minute.readings += readings

    def forget(self, connection_id: str) -> None:
        """Close a deleted connection's minute now."""
        minute = self._minutes.pop(connection_id, None)
        if minute is not None:
            self._close_minute(connection_id, minute)

    async def flush(self) -> None:
        """Close the minutes that are over and write every queued entry in one transaction."""
        now = self._clock()
        for connection_id, minute in list(self._minutes.items()):
            if now - minute.start >= MINUTE_S:
                del self._minutes[connection_id]
                self._close_minute(connection_id, minute)
        rows = list(self._pending)
        if rows:
            async with self._db.transaction() as db:
                await db.executemany(_INSERT, rows)
            del self._pending[: len(rows)]  # only once written: a failed write is tried again

    async def query(self, connection_id: str, wanted: ActivityFilter) -> tuple[list[ActivityEntry], int]:
        """One page of a connection's entries, newest first, and how many match in all."""
        await self.flush()
        kinds = wanted.types or frozenset(EventType)
        events, total = await query_events(
            self._db,
            EventQuery(
                kinds=tuple(sorted(KIND_PREFIX + kind for kind in kinds)),
                severities=tuple(sorted(wanted.severities)),
                subject=connection_id,
                since=wanted.since,
                until=wanted.until,
                limit=wanted.limit,
                offset=wanted.offset,
            ),
        )
        return [_entry(event) for event in events], total

    def _minute(self, connection_id: str, now: float) -> _Minute:
        minute = self._minutes.get(connection_id)
        if minute is None or now - minute.start >= MINUTE_S:
            if minute is not None:
                self._close_minute(connection_id, minute)
            minute = self._minutes[connection_id] = _Minute(now - now % MINUTE_S)
        return minute

    def _close_minute(self, connection_id: str, minute: _Minute) -> None:
        if not minute.messages and not minute.suppressed:
            return
        message = f"{minute.messages} messages, {minute.readings} readings"
        if minute.suppressed:
            message += f" ({minute.suppressed} more log entries suppressed)"
        detail = {"messages": minute.messages, "readings": minute.readings, "suppressed": minute.suppressed}
        self._queue(connection_id, minute.start, EventType.MESSAGE_RECEIVED, message, detail)

    def _queue(
        self, connection_id: str, ts: float, kind: EventType, message: str, detail: dict[str, object]
    ) -> None:
        if len(self._pending) >= PENDING_LIMIT:
            self.dropped += 1
            return
        data = {"severity": str(SEVERITIES[kind]), "message": message, **detail}
        self._pending.append(
            (int(ts * 1000), KIND_PREFIX + kind, connection_id, json.dumps(data, default=str))
        )


def _entry(event: StoredEvent) -> ActivityEntry:
    detail = dict(event.data)
    severity = Severity(str(detail.pop("severity")))
    message = str(detail.pop("message", ""))
    return ActivityEntry(event.id, event.timestamp, EventType(event.kind.removeprefix(KIND_PREFIX)), severity,
                         message, detail)  # fmt: skip
