"""Numbered schema migrations recorded in `schema_migrations`: an older database upgrades on start.

Each migration runs in its own transaction with its record, so a crash leaves a database at one
version or the next. A database written by a newer hub (a version this code does not know) is
refused rather than guessed at.
"""

import logging
import time
from collections.abc import Awaitable, Callable

import aiosqlite

from hub.store_samples import convert_samples

_LOGGER = logging.getLogger(__name__)

EVENTS_DELETABLE_AFTER_S = 86_400  # the delete trigger's bound, and the shortest event retention

Migration = Callable[[aiosqlite.Connection], Awaitable[None]]


class SchemaTooNew(RuntimeError):
    """The database was written by a newer hub; this one will not touch it."""


async def _run(db: aiosqlite.Connection, *statements: str) -> None:
    for statement in statements:
        await db.execute(statement)


async def m001_initial(db: aiosqlite.Connection) -> None:
    """Metadata, raw samples, append-only events, config versions, discovery results, flags."""
    await _run(
        db,
        """CREATE TABLE devices (
            device_id TEXT PRIMARY KEY, name TEXT NOT NULL, domain TEXT NOT NULL,
            address TEXT NOT NULL, vendor TEXT NOT NULL, model TEXT NOT NULL, updated_ms INTEGER NOT NULL)""",
        """CREATE TABLE points (
            key INTEGER PRIMARY KEY, point_id TEXT NOT NULL UNIQUE, device_id TEXT NOT NULL,
            name TEXT NOT NULL, kind TEXT NOT NULL, units TEXT NOT NULL, updated_ms INTEGER NOT NULL)""",
        # Keyed (point, ts) without a rowid: the smallest rows and the fastest range reads and purges.
        """CREATE TABLE samples (
            point_key INTEGER NOT NULL, ts INTEGER NOT NULL, value, quality INTEGER NOT NULL,
            PRIMARY KEY (point_key, ts)) WITHOUT ROWID""",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL,
            data TEXT NOT NULL)""",
        "CREATE INDEX events_by_ts ON events (ts)",
        """CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
        """CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
        """CREATE TABLE config_versions (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, created_ms INTEGER NOT NULL,
            author TEXT NOT NULL, content TEXT NOT NULL)""",
        "CREATE INDEX config_versions_by_name ON config_versions (name, version)",
        """CREATE TABLE discovery (
            position INTEGER PRIMARY KEY, operation_id TEXT NOT NULL UNIQUE, data TEXT NOT NULL)""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    )


async def m002_rollups(db: aiosqlite.Connection) -> None:
    """Precomputed 15- and 30-minute rollups: charts and exports never aggregate raw rows on request."""
    await db.execute(
        """CREATE TABLE rollups (
            width_min INTEGER NOT NULL, point_key INTEGER NOT NULL, bucket_ts INTEGER NOT NULL,
            min REAL NOT NULL, max REAL NOT NULL, sum REAL NOT NULL, count INTEGER NOT NULL,
            last REAL NOT NULL, last_ts INTEGER NOT NULL,
            PRIMARY KEY (width_min, point_key, bucket_ts)) WITHOUT ROWID"""
    )


async def m003_sample_chunks(db: aiosqlite.Connection) -> None:
    """Raw samples packed as runs of one point's samples per row: about 11 bytes a sample instead of 27."""
    await db.execute(
        """CREATE TABLE sample_chunks (
            point_key INTEGER NOT NULL, start INTEGER NOT NULL, data BLOB NOT NULL,
            PRIMARY KEY (point_key, start)) WITHOUT ROWID"""
    )
    await convert_samples(db)
    await db.execute("DROP TABLE samples")


async def m004_auth(db: aiosqlite.Connection) -> None:
    """Users (argon2id password hashes) and API tokens (SHA-256 digests; revoked ones are kept)."""
    await _run(
        db,
        """CREATE TABLE users (
            name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
            created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL)""",
        """CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
            digest TEXT NOT NULL UNIQUE, created_by TEXT NOT NULL, created_ms INTEGER NOT NULL,
            last_used_ms INTEGER, revoked_ms INTEGER)""",
    )


async def m005_bms(db: aiosqlite.Connection) -> None:
    """External BMS connections (argon2id-hashed and encrypted passwords), point mappings, unmapped points."""
    await _run(
        db,
        """CREATE TABLE bms_connections (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, bms_type TEXT NOT NULL, transport TEXT NOT NULL,
            description TEXT NOT NULL, enabled INTEGER NOT NULL, password_hash TEXT NOT NULL,
            password_secret TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL)""",
        """CREATE TABLE bms_mappings (
            id INTEGER PRIMARY KEY, connection_id TEXT NOT NULL, external_id TEXT NOT NULL,
            point_id TEXT NOT NULL, source_unit TEXT NOT NULL, created_point INTEGER NOT NULL,
            point_name TEXT NOT NULL, point_units TEXT NOT NULL, point_kind TEXT NOT NULL,
            UNIQUE (connection_id, external_id))""",
        """CREATE TABLE bms_unmapped (
            connection_id TEXT NOT NULL, external_id TEXT NOT NULL, first_ms INTEGER NOT NULL,
            last_ms INTEGER NOT NULL, count INTEGER NOT NULL, last_value, last_unit TEXT NOT NULL,
            PRIMARY KEY (connection_id, external_id)) WITHOUT ROWID""",
    )


async def m006_monitored_devices(db: aiosqlite.Connection) -> None:
    """Devices users added to monitoring from discovery: the descriptor found and the points chosen."""
    await db.execute(
        """CREATE TABLE monitored_devices (
            device_id TEXT PRIMARY KEY, domain TEXT NOT NULL, descriptor TEXT NOT NULL,
            all_points INTEGER NOT NULL, operation_id TEXT NOT NULL, added_by TEXT NOT NULL,
            added_ms INTEGER NOT NULL)"""
    )


async def m007_event_retention(db: aiosqlite.Connection) -> None:
    """Events may be purged once a day old (retention); younger ones still refuse deletes, all updates."""
    await _run(
        db,
        "DROP TRIGGER events_append_only_delete",
        f"""CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
            WHEN old.ts > (CAST(strftime('%s', 'now') AS INTEGER) - {EVENTS_DELETABLE_AFTER_S}) * 1000
            BEGIN SELECT RAISE(ABORT, 'events are append-only for their first day'); END""",
    )


async def m008_sessions(db: aiosqlite.Connection) -> None:
    """Browser sessions, kept across restarts (the cookie value only as its SHA-256 digest)."""
    await db.execute(
        """CREATE TABLE sessions (
            key TEXT PRIMARY KEY, user TEXT NOT NULL, role TEXT NOT NULL, created_ms INTEGER NOT NULL,
            last_seen_ms INTEGER NOT NULL) WITHOUT ROWID"""
    )


MIGRATIONS: tuple[Migration, ...] = (
    m001_initial,
    m002_rollups,
    m003_sample_chunks,
    m004_auth,
    m005_bms,
    m006_monitored_devices,
    m007_event_retention,
    m008_sessions,
)


async def schema_version(db: aiosqlite.Connection) -> int:
    """The highest migration recorded; 0 for an empty database."""
    await db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)"
    )
    async with db.execute("SELECT max(version) FROM schema_migrations") as cursor:
        row = await cursor.fetchone()
    return (row[0] if row else None) or 0


async def migrate(db: aiosqlite.Connection, upto: int = len(MIGRATIONS)) -> int:
    """Apply the missing migrations up to `upto` (an autocommit connection); returns the version reached."""
    version = await schema_version(db)
    if version > len(MIGRATIONS):
        raise SchemaTooNew(
            f"the database is at schema version {version} but this hub knows only up to "
            f"{len(MIGRATIONS)}: it was written by a newer BMS Hub; upgrade the hub or move the file away"
        )
    for number in range(version + 1, upto + 1):
        migration = MIGRATIONS[number - 1]
        await db.execute("BEGIN IMMEDIATE")
        try:
            await migration(db)
            await db.execute(
                "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)",
                (number, migration.__name__, int(time.time() * 1000)),
            )
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        _LOGGER.info("database migrated to schema version %d (%s)", number, migration.__name__)
    return max(version, upto)
