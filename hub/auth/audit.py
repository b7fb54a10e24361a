"""The audit log: security events appended to the store's events table, and the admins' query over it.

An event belongs to the audit log when its data names an `actor`: logins, user and token
changes (written here), point writes (hub.commands' AuditEvent) and flow deploys all do.
"""

import csv
import io
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from hub.codec import iso
from hub.store_tables import Database, StoredEvent


class AuthEvent(StrEnum):
    """Kinds of the events this package records."""

    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOCKED_OUT = "auth.locked_out"
    LOGOUT = "auth.logout"
    SETUP = "auth.setup"
    USER_ADDED = "auth.user_added"
    USER_CHANGED = "auth.user_changed"
    USER_DELETED = "auth.user_deleted"
    TOKEN_CREATED = "auth.token_created"
    TOKEN_REVOKED = "auth.token_revoked"
    MQTT_CREDENTIALS = "auth.mqtt_credentials"


@dataclass(frozen=True)
class AuditQuery:
    """Filters of an audit page; `before` is the id the previous page ended at (newest first)."""

    kind: str | None = None
    actor: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    before: int | None = None
    limit: int = 100


class AuditLog:
    """Appends security events (never updated or deleted: the table refuses it) and reads pages."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def record(
        self, kind: AuthEvent, subject: str, actor: str, remote: str | None, **data: object
    ) -> None:
        """Append one event: who (`actor`), from where (`remote`), about what (`subject`), and details."""
        row = {"actor": actor, "remote": remote, **data}
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO events (ts, kind, subject, data) VALUES (?, ?, ?, ?)",
                (int(self._clock() * 1000), str(kind), subject, json.dumps(row, default=str)),
            )

    async def page(self, query: AuditQuery) -> list[StoredEvent]:
        """Audit events matching `query`, newest first."""
        where = ["json_extract(data, '$.actor') IS NOT NULL"]
        args: list[object] = []
        for clause, value in (
            ("kind = ?", query.kind),
            ("json_extract(data, '$.actor') = ?", query.actor),
            ("ts >= ?", query.since_ms),
            ("ts < ?", query.until_ms),
            ("id < ?", query.before),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        sql = (
            f"SELECT id, ts, kind, subject, data FROM events WHERE {' AND '.join(where)} "
            "ORDER BY id DESC LIMIT ?"
        )
        async with self._db.reader.execute(sql, (*args, query.limit)) as cursor:
            rows = await cursor.fetchall()
        return [StoredEvent(r[0], r[1] / 1000, r[2], r[3], json.loads(r[4])) for r in rows]


def event_json(event: StoredEvent) -> dict[str, object]:
    return {
        "id": event.id,
        "time": iso(event.timestamp),
        "kind": event.kind,
        "subject": event.subject,
        "actor": event.data.get("actor"),
        "remote": event.data.get("remote"),
        "data": event.data,
    }


CSV_COLUMNS = ("id", "time", "kind", "subject", "actor", "remote", "data")


def events_csv(events: Sequence[StoredEvent]) -> str:
    """The events as CSV with a header row; `data` is the event's JSON."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        row = event_json(event)
        row["data"] = json.dumps(row["data"], sort_keys=True)
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
