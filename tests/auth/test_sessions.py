"""Browser sessions end after the idle timeout or the absolute maximum age (a controlled clock), and are
kept in a real SQLite file."""

import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hub.auth.roles import Role
from hub.auth.sessions import LAST_SEEN_RESOLUTION_S, Sessions, csrf_matches
from hub.bus import Bus
from hub.config import StoreConfig
from hub.store import Store
from hub.supervisor import Supervisor


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


MakeSessions = Callable[..., Sessions]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    supervisor = Supervisor()
    store = Store(StoreConfig(), tmp_path / "hub.db", Bus(), supervisor)
    await store.start()
    yield store
    await supervisor.stop()
    await store.stop()


@pytest.fixture
def make(store: Store) -> MakeSessions:
    def make(
        idle_timeout: float = 60, max_age: float = 150, clock: Callable[[], float] | None = None
    ) -> Sessions:
        return Sessions(idle_timeout, max_age, store, clock or Clock())

    return make


def stored(store: Store) -> list[tuple[str, str, int]]:
    with sqlite3.connect(store.path) as db:
        return db.execute(
            "SELECT user, role, last_seen_ms FROM sessions ORDER BY user, last_seen_ms"
        ).fetchall()


async def test_a_session_ends_after_its_idle_timeout(make: MakeSessions) -> None:
    clock = Clock()
    sessions = make(idle_timeout=60, max_age=3600, clock=clock)
    _, cookie = await sessions.create("ada", Role.ADMIN)
    clock.now += 59
    assert await sessions.get(cookie) is not None  # activity restarts the idle timer
    clock.now += 59
    assert await sessions.get(cookie) is not None
    clock.now += 60
    assert await sessions.get(cookie) is None
    clock.now -= 1000
    assert await sessions.get(cookie) is None, "an expired session is gone for good"


async def test_an_active_session_ends_at_its_maximum_age(make: MakeSessions) -> None:
    clock = Clock()
    sessions = make(idle_timeout=60, max_age=150, clock=clock)
    session, cookie = await sessions.create("ada", Role.ADMIN)
    for _ in range(2):
        clock.now += 50
        assert await sessions.get(cookie) is not None
    assert sessions.expires_at(await sessions.get(cookie)) == session.created_at + 150  # type: ignore[arg-type]
    clock.now += 50
    assert await sessions.get(cookie) is None


async def test_the_cookie_is_not_kept_and_sessions_of_a_user_end_together(
    make: MakeSessions, store: Store
) -> None:
    sessions = make()
    first, cookie = await sessions.create("ada", Role.ADMIN)
    _, other = await sessions.create("ada", Role.ADMIN)
    _, bob = await sessions.create("bob", Role.VIEWER)
    assert cookie not in first.key
    with sqlite3.connect(store.path) as db:
        assert cookie not in str(db.execute("SELECT * FROM sessions").fetchall())
    await sessions.end_user("ada")
    assert (await sessions.get(cookie), await sessions.get(other)) == (None, None)
    assert await sessions.get(bob) is not None
    assert [row[:2] for row in stored(store)] == [("bob", "viewer")]


async def test_activity_is_written_at_most_once_a_resolution(make: MakeSessions, store: Store) -> None:
    clock = Clock()
    sessions = make(idle_timeout=3600, max_age=7200, clock=clock)
    _, cookie = await sessions.create("ada", Role.ADMIN)
    start_ms = int(clock.now * 1000)
    clock.now += LAST_SEEN_RESOLUTION_S - 1
    await sessions.get(cookie)
    assert stored(store) == [("ada", "admin", start_ms)]
    clock.now += 1
    await sessions.get(cookie)
    assert stored(store) == [("ada", "admin", start_ms + int(LAST_SEEN_RESOLUTION_S * 1000))]


async def test_a_database_that_cannot_be_written__sessions_go_on_in_memory(
    make: MakeSessions, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with sqlite3.connect(store.path) as db:
        db.execute("DROP TABLE sessions")
    sessions = make()
    with caplog.at_level(logging.ERROR):
        session, cookie = await sessions.create("ada", Role.ADMIN)
    assert await sessions.get(cookie) == session
    assert "sessions: cannot store a new session in the database (no such table: sessions)" in caplog.text
    assert cookie not in caplog.text


async def test_csrf_token__only_the_sessions_own_matches(make: MakeSessions) -> None:
    sessions = make()
    session, _ = await sessions.create("ada", Role.ADMIN)
    other, _ = await sessions.create("ada", Role.ADMIN)
    assert csrf_matches(session, session.csrf_token)
    assert not csrf_matches(session, other.csrf_token)
    assert not csrf_matches(session, None)
    assert not csrf_matches(session, "")
