"""Config versions and discovery results in the database (and the one-time import of discovery.json)."""

import logging

import pytest

from hub.discovery_store import JsonDiscoveryStore
from hub.store_tables import SqliteDiscoveryStore
from tests.store.conftest import OpenStore, rows
from tests.test_discovery_store import operation


async def test_config_versions__save_list_get(open_store: OpenStore):
    store = await open_store()
    versions = store.config_versions
    first = await versions.save("flows", "nodes: []", "alice")
    other = await versions.save("blueprints", "x: 1", "bob")
    second = await versions.save("flows", "nodes: [a]", "alice")

    assert (first.version, second.version) == (1, 3)
    assert await versions.list("flows") == [first, second]
    assert await versions.list() == [first, other, second]
    assert await versions.get(3) == second
    with pytest.raises(KeyError):
        await versions.get(99)


async def test_discovery_results__round_trip_and_replace(open_store: OpenStore, tmp_path):
    store = await open_store()
    saved = [operation("first"), operation("second")]
    await store.discovery.save(saved)
    assert await store.discovery.load() == saved
    await store.discovery.save([operation("third")])
    assert [op.id for op in await store.discovery.load()] == ["third"]
    await store.stop()

    reopened = await open_store()
    assert [op.id for op in await reopened.discovery.load()] == ["third"]


async def test_discovery_json__imported_once_then_left_alone(open_store: OpenStore, tmp_path, caplog):
    legacy = tmp_path / "discovery.json"
    await JsonDiscoveryStore(legacy).save([operation("from-json")])
    before = legacy.read_bytes()
    caplog.set_level(logging.INFO)
    store = await open_store()
    sqlite_store = SqliteDiscoveryStore(store, legacy)

    assert [op.id for op in await sqlite_store.load()] == ["from-json"]
    assert any("imported 1 discovery results" in r.getMessage() for r in caplog.records)

    await sqlite_store.save([operation("newer")])
    assert [op.id for op in await sqlite_store.load()] == ["newer"], "not imported a second time"
    assert legacy.read_bytes() == before
    assert rows(tmp_path / "hub.db", "SELECT key FROM meta") == [("discovery_json_imported",)]


async def test_a_stored_result_this_hub_cannot_read_is_skipped(open_store: OpenStore, tmp_path, caplog):
    store = await open_store()
    await store.discovery.save([operation("good")])
    async with store.transaction() as db:
        await db.execute("INSERT INTO discovery VALUES (5, 'bad', '{\"operation_id\": \"bad\"}')")
    assert [op.id for op in await store.discovery.load()] == ["good"]
    assert "skipping a stored discovery result" in caplog.text
