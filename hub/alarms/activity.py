"""The activity log: the store's append-only events (alarms, audited writes, device status...), filtered."""

import json
from dataclasses import dataclass

from hub.store_tables import Database, StoredEvent


@dataclass(frozen=True)
class EventQuery:
    """Which events, newest first; empty filters match everything."""

    kinds: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()  # events that carry a severity (alarm events do)
    subject: str | None = None
    since: float | None = None  # UTC epoch seconds, inclusive
    until: float | None = None  # exclusive
    limit: int = 100
    offset: int = 0


async def query_events(db: Database, query: EventQuery) -> tuple[list[StoredEvent], int]:
    """One page of matching events, newest first, and how many match in all."""
    clauses, args = _where(query)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    async with db.reader.execute(f"SELECT count(*) FROM events {where}", args) as cursor:
        row = await cursor.fetchone()
    total = row[0] if row else 0
    sql = f"SELECT id, ts, kind, subject, data FROM events {where} ORDER BY id DESC LIMIT ? OFFSET ?"
    async with db.reader.execute(sql, (*args, query.limit, query.offset)) as cursor:
        rows = await cursor.fetchall()
    return [StoredEvent(r[0], r[1] / 1000, r[2], r[3], json.loads(r[4])) for r in rows], total


def _where(query: EventQuery) -> tuple[list[str], list[object]]:
    clauses: list[str] = []
    args: list[object] = []
    for column, values in (("kind", query.kinds), ("json_extract(data, '$.severity')", query.severities)):
        if values:
            clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
            args.extend(values)
    if query.subject is not None:
        clauses.append("subject = ?")
        args.append(query.subject)
    if query.since is not None:
        clauses.append("ts >= ?")
        args.append(int(query.since * 1000))
    if query.until is not None:
        clauses.append("ts < ?")
        args.append(int(query.until * 1000))
    return clauses, args
