"""Opening the hub's SQLite database: WAL, migrations, a corrupt file moved aside instead of a crash loop."""

import errno
import logging
import sqlite3
import time
from pathlib import Path

import aiosqlite

from hub.migrations import migrate

_LOGGER = logging.getLogger(__name__)

# SQLite's primary result codes that mean the file itself is damaged.
_CORRUPT_CODES = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
_SUFFIXES = ("", "-wal", "-shm")


def is_corrupt(err: sqlite3.Error) -> bool:
    """The error says the database file is damaged (not busy, full or read-only)."""
    code = getattr(err, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _CORRUPT_CODES


def on_read_only_filesystem(path: Path) -> bool:
    """Found with a probe file: after a device error ext4 goes read-only while its mount still says rw."""
    probe = path.with_name(f".{path.name}.write-probe")
    try:
        probe.touch()
        probe.unlink()
    except OSError as err:
        return err.errno == errno.EROFS
    return False


def corrupt_marker(path: Path) -> Path:
    """A file left next to a database found damaged while running: the next start moves it aside."""
    return path.with_name(f"{path.name}.corrupt")


async def connect(path: Path, *, read_only: bool = False) -> aiosqlite.Connection:
    """An autocommit connection in WAL mode (explicit BEGIN/COMMIT)."""
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("PRAGMA busy_timeout=5000")
        if read_only:
            await db.execute("PRAGMA query_only=1")
    except BaseException:
        await db.close()
        raise
    return db


async def open_database(path: Path) -> aiosqlite.Connection:
    """Open and migrate the writer's connection; a damaged file is moved aside and a fresh one started."""
    marker = corrupt_marker(path)
    if marker.exists():
        move_aside(path, marker.read_text(encoding="utf-8", errors="replace").strip())
    try:
        return await _open_migrated(path)
    except sqlite3.DatabaseError as err:
        if not is_corrupt(err):
            raise
        move_aside(path, str(err))
    return await _open_migrated(path)


async def _open_migrated(path: Path) -> aiosqlite.Connection:
    db = await connect(path)
    try:
        await migrate(db)
    except BaseException:
        await db.close()
        raise
    return db


def move_aside(path: Path, reason: str) -> Path:
    """Rename a damaged database (and its WAL files) to `<name>.corrupt-<time>`, logging where it went."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    for suffix in _SUFFIXES:
        source = path.with_name(path.name + suffix)
        if source.exists():
            source.replace(target.with_name(target.name + suffix))
    corrupt_marker(path).unlink(missing_ok=True)
    _LOGGER.error(
        "database %s is damaged (%s): moved it to %s and started a fresh one; "
        "the history it held is not in the new database",
        path, reason, target,
    )  # fmt: skip
    return target
