"""Browser sessions end after the idle timeout or the absolute maximum age (a controlled clock)."""

from hub.auth.roles import Role
from hub.auth.sessions import Sessions, csrf_matches


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_ends_after_its_idle_timeout():
    clock = Clock()
    sessions = Sessions(idle_timeout=60, max_age=3600, clock=clock)
    _, cookie = sessions.create("ada", Role.ADMIN)
    clock.now += 59
    assert sessions.get(cookie) is not None  # activity restarts the idle timer
    clock.now += 59
    assert sessions.get(cookie) is not None
    clock.now += 60
    assert sessions.get(cookie) is None
    clock.now -= 1000
    assert sessions.get(cookie) is None, "an expired session is gone for good"


def test_an_active_session_ends_at_its_maximum_age():
    clock = Clock()
    sessions = Sessions(idle_timeout=60, max_age=150, clock=clock)
    session, cookie = sessions.create("ada", Role.ADMIN)
    for _ in range(2):
        clock.now += 50
        assert sessions.get(cookie) is not None
    assert sessions.expires_at(sessions.get(cookie)) == session.created_at + 150  # type: ignore[arg-type]
    clock.now += 50
    assert sessions.get(cookie) is None


def test_the_cookie_is_not_kept_and_sessions_of_a_user_end_together():
    sessions = Sessions(idle_timeout=60, max_age=150)
    first, cookie = sessions.create("ada", Role.ADMIN)
    _, other = sessions.create("ada", Role.ADMIN)
    _, bob = sessions.create("bob", Role.VIEWER)
    assert cookie not in first.key
    assert first.key != cookie
    sessions.end_user("ada")
    assert (sessions.get(cookie), sessions.get(other)) == (None, None)
    assert sessions.get(bob) is not None


def test_csrf_token__only_the_sessions_own_matches():
    sessions = Sessions(idle_timeout=60, max_age=150)
    session, _ = sessions.create("ada", Role.ADMIN)
    other, _ = sessions.create("ada", Role.ADMIN)
    assert csrf_matches(session, session.csrf_token)
    assert not csrf_matches(session, other.csrf_token)
    assert not csrf_matches(session, None)
    assert not csrf_matches(session, "")
