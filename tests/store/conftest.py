"""Stores on real SQLite files in tmp dirs, with a clock the test moves."""

import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from hub.bus import Bus
from hub.config import StoreConfig
from hub.store import Store
from hub.store_chunks import decode
from hub.supervisor import Supervisor

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z, a 30-minute boundary
QUIET = StoreConfig(commit_interval=3600)  # the test decides when to flush


class Clock:
    """Epoch seconds that move only when the test says so."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


OpenStore = Callable[..., Awaitable[Store]]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def open_store(tmp_path: Path, clock: Clock) -> AsyncIterator[OpenStore]:
    """Start stores (QUIET config unless changed) on tmp_path/hub.db; stopped after the test."""
    stores: list[Store] = []

    async def start(path: Path | None = None, bus: Bus | None = None, **changes: object) -> Store:
        config = dataclasses.replace(QUIET, **changes)  # type: ignore[arg-type]
        store = Store(config, path or tmp_path / "hub.db", bus or Bus(), Supervisor(), clock=clock)
        await store.start()
        stores.append(store)
        return store

    yield start
    for store in stores:
        await store.stop()


def rows(path: Path, sql: str, *args: object) -> list[tuple]:
    """Query the database file directly, as another program would."""
    with sqlite3.connect(path) as db:
        return db.execute(sql, args).fetchall()


def sample_rows(path: Path, sql: str, *args: object) -> list[tuple]:
    """Like `rows`, with the chunks decoded into a temporary table samples (point_key, ts, value, quality)."""
    with sqlite3.connect(path) as db:
        chunks = db.execute("SELECT point_key, start, data FROM sample_chunks").fetchall()
        db.execute("CREATE TEMP TABLE samples (point_key, ts, value, quality)")
        db.executemany(
            "INSERT INTO temp.samples VALUES (?, ?, ?, ?)",
            [(key, *sample) for key, start, data in chunks for sample in decode(start, data)],
        )
        return db.execute(sql, args).fetchall()
