"""Schema migrations and damaged files, on real SQLite files."""

import logging
import sqlite3

import pytest

from hub.core import Hub
from hub.migrations import MIGRATIONS, SchemaTooNew, migrate
from hub.store_db import connect, corrupt_marker, open_database
from hub.store_query import History
from tests.conftest import make_config
from tests.store.conftest import OpenStore, rows, sample_rows

LATEST = len(MIGRATIONS)


def tables(path) -> set[str]:
    return {name for (name,) in rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}


async def test_empty_database__migrated_to_the_latest(tmp_path):
    path = tmp_path / "hub.db"
    db = await open_database(path)
    await db.close()

    assert rows(path, "SELECT version, name FROM schema_migrations ORDER BY version")[:3] == [
        (1, "m001_initial"),
        (2, "m002_rollups"),
        (3, "m003_sample_chunks"),
    ]
    assert {
        "devices",
        "points",
        "sample_chunks",
        "events",
        "config_versions",
        "discovery",
        "meta",
        "rollups",
    } <= tables(path)
    assert rows(path, "PRAGMA journal_mode") == [("wal",)]


async def test_older_schema__upgraded_on_start_keeping_its_data(tmp_path, open_store: OpenStore):
    path = tmp_path / "hub.db"
    db = await connect(path)
    assert await migrate(db, upto=1) == 1
    await db.execute("INSERT INTO points VALUES (1, 'old.point', 'dev', 'Old', 'analog', '', 0)")
    await db.execute("INSERT INTO samples VALUES (1, 1767225600000, 4.5, 0)")
    await db.close()
    assert "rollups" not in tables(path)

    store = await open_store(path)
    store.add("old.point", 1767225600000 + 1000, 5.5)
    assert await store.flush()

    assert rows(path, "SELECT max(version) FROM schema_migrations") == [(LATEST,)]
    assert sample_rows(path, "SELECT point_key, value FROM samples ORDER BY ts") == [(1, 4.5), (1, 5.5)]
    assert rows(path, "SELECT count(*) FROM rollups") == [(2,)]


async def test_m002_samples__packed_into_chunks_and_read_back_the_same(tmp_path, open_store: OpenStore):
    path = tmp_path / "hub.db"
    db = await connect(path)
    assert await migrate(db, upto=2) == 2
    start = 1767225600000
    points = {"float": [20.0 + i / 8 for i in range(150)], "mixed": [1, 2.5, "on", None, True] * 30}
    old = {
        point_id: [(start + i * 20_000 + i % 7, value, i % 3) for i, value in enumerate(values)]
        for point_id, values in points.items()
    }  # 150 samples over 50 minutes: more than one chunk can hold
    for key, (point_id, samples) in enumerate(old.items(), 1):
        await db.execute("INSERT INTO points VALUES (?, ?, 'dev', '', 'analog', '', 0)", (key, point_id))
        await db.executemany("INSERT INTO samples VALUES (?, ?, ?, ?)", [(key, *s) for s in samples])
    async with db.execute("SELECT ts, value, quality FROM samples WHERE point_key = 2 ORDER BY ts") as cursor:
        stored_mixed = await cursor.fetchall()  # as SQLite kept them (True became 1)
    await db.close()

    store = await open_store(path, raw_retention_hours=87_600)
    history = History(store)
    keys = await history.keys(old)

    assert "samples" not in tables(path)
    assert rows(path, "SELECT count(*) > 2 FROM sample_chunks") == [(1,)]
    assert await history.raw(keys["float"], start, start + 3_600_000) == old["float"]
    assert await history.raw(keys["mixed"], start, start + 3_600_000) == stored_mixed


async def test_a_second_start_applies_nothing(tmp_path, caplog):
    path = tmp_path / "hub.db"
    await (await open_database(path)).close()
    caplog.set_level(logging.INFO)
    caplog.clear()
    await (await open_database(path)).close()
    assert not [r for r in caplog.records if "migrated" in r.getMessage()]
    assert rows(path, "SELECT count(*) FROM schema_migrations") == [(LATEST,)]


async def test_newer_schema__refused_with_a_clear_message(tmp_path):
    path = tmp_path / "hub.db"
    await (await open_database(path)).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_migrations VALUES (?, 'm999_future', 0)", (LATEST + 1,))

    with pytest.raises(
        SchemaTooNew, match=f"schema version {LATEST + 1} but this hub knows only up to {LATEST}"
    ):
        await open_database(path)
    assert path.exists(), "a newer database is left alone"


async def test_a_failed_migration_leaves_the_previous_version(tmp_path, monkeypatch):
    path = tmp_path / "hub.db"
    db = await connect(path)
    await migrate(db, upto=1)

    async def broken(connection):
        await connection.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr("hub.migrations.MIGRATIONS", (MIGRATIONS[0], broken))
    with pytest.raises(sqlite3.OperationalError):
        await migrate(db)
    await db.close()
    assert rows(path, "SELECT max(version) FROM schema_migrations") == [(1,)]
    assert "half_done" not in tables(path)


async def test_a_file_that_is_not_a_database__moved_aside_and_a_fresh_one_started(tmp_path, caplog):
    path = tmp_path / "hub.db"
    path.write_bytes(b"this is not SQLite" * 500)

    db = await open_database(path)
    await db.close()

    (aside,) = [p for p in tmp_path.iterdir() if p.name.startswith("hub.db.corrupt-")]
    assert aside.read_bytes().startswith(b"this is not SQLite")
    assert rows(path, "SELECT max(version) FROM schema_migrations") == [(LATEST,)]
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"database {path} is damaged" in record.getMessage()
    assert str(aside) in record.getMessage()


async def test_damaged_pages_found_while_running__moved_aside_at_next_start(tmp_path):
    path = tmp_path / "hub.db"
    await (await open_database(path)).close()
    corrupt_marker(path).write_text("DatabaseError: database disk image is malformed")

    db = await open_database(path)
    await db.close()

    assert not corrupt_marker(path).exists()
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("hub.db.corrupt-")]) == 1


async def test_the_hub_does_not_start_on_a_newer_database(tmp_path):
    config = make_config(tmp_path)
    config.data_dir.mkdir(parents=True)
    path = config.data_dir / "hub.db"
    await (await open_database(path)).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_migrations VALUES (?, 'm999_future', 0)", (LATEST + 1,))

    with pytest.raises(SchemaTooNew, match="written by a newer BMS Hub"):
        await Hub(config).start()
