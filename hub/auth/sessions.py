"""Browser sessions, in memory: a random id in a cookie, a CSRF token, idle and absolute timeouts.

Sessions do not survive a restart (users log in again); the id is kept only as its SHA-256 digest,
so a memory dump does not hand out live cookies either.
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from hub.auth.roles import Role


@dataclass(frozen=True)
class Session:
    key: str  # digest of the cookie value
    user: str
    role: Role
    csrf_token: str
    created_at: float  # UTC epoch seconds (by the clock given)
    last_seen: float


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Sessions:
    """Live sessions by cookie value; expired ones are dropped when met and on every login."""

    def __init__(self, idle_timeout: float, max_age: float, clock: Callable[[], float] = time.time) -> None:
        self.idle_timeout = idle_timeout
        self.max_age = max_age
        self._clock = clock
        self._sessions: dict[str, Session] = {}

    def create(self, user: str, role: Role) -> tuple[Session, str]:
        """A new session and the cookie value that names it."""
        self._drop_expired()
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(_digest(session_id), user, role, secrets.token_urlsafe(32), now, now)
        self._sessions[session.key] = session
        return session, session_id

    def get(self, session_id: str) -> Session | None:
        """The live session for a cookie value (its idle timer restarted), or None."""
        key = _digest(session_id)
        session = self._sessions.get(key)
        if session is None:
            return None
        now = self._clock()
        if self._expired(session, now):
            del self._sessions[key]
            return None
        session = replace(session, last_seen=now)
        self._sessions[key] = session
        return session

    def end(self, session: Session) -> None:
        self._sessions.pop(session.key, None)

    def end_user(self, user: str) -> None:
        """End every session of `user` (deleted, or their role or password changed)."""
        for key in [key for key, session in self._sessions.items() if session.user == user]:
            del self._sessions[key]

    def expires_at(self, session: Session) -> float:
        """When `session` ends if it stays idle from now on."""
        return min(session.last_seen + self.idle_timeout, session.created_at + self.max_age)

    def _expired(self, session: Session, now: float) -> bool:
        return now >= self.expires_at(session)

    def _drop_expired(self) -> None:
        now = self._clock()
        for key in [key for key, session in self._sessions.items() if self._expired(session, now)]:
            del self._sessions[key]


def csrf_matches(session: Session, offered: str | None) -> bool:
    """Whether a request's CSRF token is its session's (compared in constant time)."""
    return offered is not None and hmac.compare_digest(session.csrf_token.encode(), offered.encode())
