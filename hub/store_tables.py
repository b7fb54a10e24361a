"""The store's small tables: append-only events, config versions and discovery results.

They share the writer's connection through `Database.transaction()` (one writer, so a save never
races the sample batches), and read through the reader connection.
"""

import json
import logging
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiosqlite

from hub.codec import operation_from_json, operation_json
from hub.commands import AuditEvent
from hub.discovery import DiscoveryOperation
from hub.discovery_store import JsonDiscoveryStore
from hub.points import DeviceStatusChanged

_LOGGER = logging.getLogger(__name__)

EventRow = tuple[int, str, str, str]  # ts_ms, kind, subject, JSON data
_DISCOVERY_IMPORTED = "discovery_json_imported"


class Database(Protocol):
    """What the tables need from the store: the one writer's transactions and a reader."""

    def transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        """The writer connection inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error)."""
        ...

    @property
    def reader(self) -> aiosqlite.Connection:
        """A query-only connection that never blocks the writer."""
        ...


@dataclass(frozen=True)
class StoredEvent:
    """One row of the append-only events table."""

    id: int
    timestamp: float  # UTC epoch seconds
    kind: str
    subject: str
    data: dict[str, object]


def audit_row(event: AuditEvent) -> EventRow:
    """An audited write as an events row (kind `audit`, subject the point)."""
    data = {
        "actor": event.actor,
        "source": str(event.source),
        "old": event.old,
        "new": event.new,
        "priority": event.priority,
        "outcome": str(event.outcome),
        "reason": event.reason,
    }
    return (int(event.timestamp * 1000), "audit", event.point_id, json.dumps(data, default=str))


def device_status_row(event: DeviceStatusChanged, now: float) -> EventRow:
    """A device status change as an events row (kind `device_status`, subject the device)."""
    state = event.state
    data = {"status": str(state.status), "error_count": state.error_count, "last_error": state.last_error}
    return (int(now * 1000), "device_status", event.device.id, json.dumps(data))


async def read_events(db: Database, *, kind: str | None = None, limit: int = 1000) -> list[StoredEvent]:
    """The newest `limit` events (of `kind`), oldest first."""
    where, args = ("WHERE kind = ?", (kind, limit)) if kind else ("", (limit,))
    sql = f"SELECT id, ts, kind, subject, data FROM events {where} ORDER BY id DESC LIMIT ?"
    async with db.reader.execute(sql, args) as cursor:
        rows = await cursor.fetchall()
    return [StoredEvent(r[0], r[1] / 1000, r[2], r[3], json.loads(r[4])) for r in reversed(rows)]


@dataclass(frozen=True)
class ConfigVersion:
    """One saved version of a named piece of configuration (a blueprint, a deployment)."""

    version: int
    name: str
    created_at: float  # UTC epoch seconds
    author: str
    content: str


class ConfigVersions:
    """Every deploy is a new version; rollback is a deploy of an old one. Versions are never changed."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, name: str, content: str, author: str) -> ConfigVersion:
        """Store `content` as the newest version of `name`."""
        created = time.time()
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO config_versions (name, created_ms, author, content) VALUES (?, ?, ?, ?)",
                (name, int(created * 1000), author, content),
            )
            version = cursor.lastrowid
        assert version is not None
        return ConfigVersion(version, name, int(created * 1000) / 1000, author, content)

    async def list(self, name: str | None = None) -> list[ConfigVersion]:
        """Every version (of `name`), oldest first."""
        where, args = ("WHERE name = ?", (name,)) if name else ("", ())
        sql = (
            f"SELECT version, name, created_ms, author, content FROM config_versions {where} ORDER BY version"
        )
        async with self._db.reader.execute(sql, args) as cursor:
            return [_version(row) for row in await cursor.fetchall()]

    async def get(self, version: int) -> ConfigVersion:
        """One version; KeyError when there is no such version."""
        sql = "SELECT version, name, created_ms, author, content FROM config_versions WHERE version = ?"
        async with self._db.reader.execute(sql, (version,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise KeyError(version)
        return _version(row)


def _version(row: aiosqlite.Row | tuple) -> ConfigVersion:
    return ConfigVersion(row[0], row[1], row[2] / 1000, row[3], row[4])


class SqliteDiscoveryStore:
    """The DiscoveryStore in the hub's database; a discovery.json of older hubs is imported once."""

    def __init__(self, db: Database, legacy_json: Path | None = None) -> None:
        self._db = db
        self._legacy = legacy_json

    async def load(self) -> list[DiscoveryOperation]:
        """The stored operations, oldest first (importing the old JSON file the first time)."""
        await self._import_legacy()
        async with self._db.reader.execute("SELECT data FROM discovery ORDER BY position") as cursor:
            rows = await cursor.fetchall()
        operations = []
        for (data,) in rows:
            try:
                operations.append(operation_from_json(json.loads(data)))
            except (ValueError, KeyError, TypeError) as err:
                _LOGGER.error(
                    "skipping a stored discovery result this hub cannot read: %s: %s", type(err).__name__, err
                )
        return operations

    async def save(self, operations: Sequence[DiscoveryOperation]) -> None:
        """Replace the stored operations with these, in one transaction."""
        async with self._db.transaction() as db:
            await _replace(db, operations)

    async def _import_legacy(self) -> None:
        if self._legacy is None or not self._legacy.exists():
            return
        async with self._db.reader.execute("SELECT 1 FROM meta WHERE key = ?", (_DISCOVERY_IMPORTED,)) as cur:
            if await cur.fetchone() is not None:
                return
        operations = await JsonDiscoveryStore(self._legacy).load()
        async with self._db.transaction() as db:
            await _replace(db, operations)
            await db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)", (_DISCOVERY_IMPORTED, str(self._legacy))
            )
        _LOGGER.info(
            "imported %d discovery results from %s into the database; the file is no longer used",
            len(operations), self._legacy,
        )  # fmt: skip


async def _replace(db: aiosqlite.Connection, operations: Sequence[DiscoveryOperation]) -> None:
    await db.execute("DELETE FROM discovery")
    await db.executemany(
        "INSERT INTO discovery (position, operation_id, data) VALUES (?, ?, ?)",
        [(i, op.id, json.dumps(operation_json(op), ensure_ascii=False)) for i, op in enumerate(operations)],
    )
