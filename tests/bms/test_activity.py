"""The activity log on a real SQLite store, with a clock the test moves: aggregation, cap, filters, pages."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.bms.activity import CAP_PER_MINUTE, ActivityFilter, ActivityLog
from hub.bms.model import EventType, Severity
from hub.bus import Bus
from hub.config import StoreConfig
from hub.store import Store
from hub.supervisor import Supervisor
from tests.bms.conftest import FIXED as T0
from tests.bms.conftest import Clock


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store(StoreConfig(commit_interval=3600), tmp_path / "hub.db", Bus(), Supervisor())
    await store.start()
    yield store
    await store.stop()


async def test_messages__one_entry_per_minute(store: Store):
    clock = Clock(T0 + 5)
    log = ActivityLog(store, clock)
    for _ in range(500):
        log.received("a", 10)
    clock.now = T0 + 59
    log.received("a", 1)
    await log.flush()
    assert (await log.query("a", ActivityFilter()))[1] == 0  # the minute is not over yet
    clock.now = T0 + 61
    log.received("a", 2)  # a new minute closes the last one
    entries, total = await log.query("a", ActivityFilter())
    assert total == 1
    assert (entries[0].type, entries[0].timestamp, entries[0].detail) == (
        EventType.MESSAGE_RECEIVED,
        T0,
        {"messages": 501, "readings": 5001, "suppressed": 0},
    )
    clock.now = T0 + 120
    entries, total = await log.query("a", ActivityFilter())  # reading closes finished minutes too
    assert total == 2
    assert entries[0].detail["messages"] == 1


async def test_other_types__capped_per_minute_and_counted(store: Store):
    clock = Clock(T0)
    log = ActivityLog(store, clock)
    for number in range(CAP_PER_MINUTE + 5):
        log.record("a", EventType.VALIDATION_FAILED, f"bad {number}")
    log.record("a", EventType.ERROR, "one error still gets through")
    clock.now = T0 + 60
    _entries, total = await log.query("a", ActivityFilter(types=frozenset({EventType.VALIDATION_FAILED})))
    assert total == CAP_PER_MINUTE
    summary, _ = await log.query("a", ActivityFilter(types=frozenset({EventType.MESSAGE_RECEIVED})))
    assert summary[0].detail["suppressed"] == 5
    errors, _ = await log.query("a", ActivityFilter(types=frozenset({EventType.ERROR})))
    assert [e.message for e in errors] == ["one error still gets through"]


async def test_filters_and_pages(store: Store):
    clock = Clock(T0)
    log = ActivityLog(store, clock)
    for minute in range(5):
        clock.now = T0 + minute * 60
        log.record("a", EventType.CONNECTION_ESTABLISHED, f"up {minute}")
        log.record("a", EventType.CONNECTION_LOST, f"down {minute}")
    log.record("b", EventType.CONNECTION_LOST, "another connection")

    warnings, total = await log.query("a", ActivityFilter(severities=frozenset({Severity.WARNING})))
    assert total == 5
    assert {e.type for e in warnings} == {EventType.CONNECTION_LOST}
    ranged, total = await log.query("a", ActivityFilter(since=T0 + 60, until=T0 + 180))
    assert total == 4
    assert {e.message for e in ranged} == {"up 1", "down 1", "up 2", "down 2"}
    first, total = await log.query("a", ActivityFilter(limit=3))
    second, _ = await log.query("a", ActivityFilter(limit=3, offset=3))
    assert total == 10
    assert [e.message for e in first] == ["down 4", "up 4", "down 3"]
    assert [e.message for e in second] == ["up 3", "down 2", "up 2"]
    assert [e.severity for e in second] == [Severity.INFO, Severity.WARNING, Severity.INFO]
