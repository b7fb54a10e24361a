"""Browser sessions: a random id in a cookie, a CSRF token, idle and absolute timeouts, kept across restarts.

A wall display or an engineer's laptop stays logged in when the hub restarts (an upgrade, a config
change, a power cut): sessions are read from the database on start. The cookie value is kept only
as its SHA-256 digest, so neither a memory dump nor a copy of the database hands out live cookies;
the CSRF token is derived from the cookie value, so the database holds no token either.
Requests are answered from memory; the database follows each login and logout at once, and a
session's last activity at most once a minute (so after a restart a session may end up to a minute
early). When the database cannot be written, sessions go on in memory and the failure is logged.
"""

import hashlib
import hmac
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from hub.auth.roles import Role
from hub.store_tables import Database

_LOGGER = logging.getLogger(__name__)

LAST_SEEN_RESOLUTION_S = 60.0  # a session's last activity is written at most this often


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


def _csrf_token(session_id: str) -> str:
    """The session's CSRF token: known to whoever has the cookie, and the cookie cannot be had from it."""
    return hmac.new(session_id.encode(), b"csrf", hashlib.sha256).hexdigest()


class Sessions:
    """Live sessions by cookie value; expired ones are dropped when met and on every login."""

    def __init__(
        self, idle_timeout: float, max_age: float, db: Database, clock: Callable[[], float] = time.time
    ) -> None:
        self.idle_timeout = idle_timeout
        self.max_age = max_age
        self._db = db
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._stored_seen: dict[str, float] = {}  # key -> the last activity the database has

    async def load(self) -> int:
        """Take up the sessions of the last run that are still live and whose user is unchanged.

        A session is dropped unless its user still exists with the same role and no newer password,
        whatever changed the database meanwhile (a restored backup, an end that failed to write).
        """
        unchanged_user = (
            "SELECT 1 FROM users u WHERE u.name = sessions.user AND u.role = sessions.role "
            "AND u.updated_ms <= sessions.created_ms"
        )
        await self._write(
            "drop the expired sessions and those of changed users",
            self._expired_delete(),
            (f"DELETE FROM sessions WHERE NOT EXISTS ({unchanged_user})", ()),
        )
        async with self._db.reader.execute(
            "SELECT key, user, role, created_ms, last_seen_ms FROM sessions "
            f"WHERE EXISTS ({unchanged_user})"  # also when the delete above could not be written
        ) as cursor:
            rows = await cursor.fetchall()
        for key, user, role, created_ms, last_seen_ms in rows:  # the CSRF token comes with the cookie
            session = Session(key, user, Role(role), "", created_ms / 1000, last_seen_ms / 1000)
            self._sessions[key] = session
            self._stored_seen[key] = session.last_seen
        return len(self._sessions)

    async def create(self, user: str, role: Role) -> tuple[Session, str]:
        """A new session (stored before the cookie is handed out) and the cookie value that names it."""
        self._drop_expired()
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(_digest(session_id), user, role, _csrf_token(session_id), now, now)
        self._sessions[session.key] = session
        self._stored_seen[session.key] = now
        await self._write(
            "store a new session",
            self._expired_delete(),
            (
                "INSERT INTO sessions (key, user, role, created_ms, last_seen_ms) VALUES (?, ?, ?, ?, ?)",
                (session.key, user, str(role), _ms(now), _ms(now)),
            ),
        )
        return session, session_id

    async def get(self, session_id: str) -> Session | None:
        """The live session for a cookie value (its idle timer restarted), or None."""
        key = _digest(session_id)
        session = self._sessions.get(key)
        if session is None:
            return None
        now = self._clock()
        if self._expired(session, now):
            self._forget(key)
            return None
        session = replace(session, csrf_token=_csrf_token(session_id), last_seen=now)
        self._sessions[key] = session
        if now - self._stored_seen.get(key, now) >= LAST_SEEN_RESOLUTION_S:
            self._stored_seen[key] = now
            sql = "UPDATE sessions SET last_seen_ms = ? WHERE key = ?"
            await self._write("record a session's activity", (sql, (_ms(now), key)))
        return session

    async def end(self, session: Session) -> None:
        self._forget(session.key)
        await self._write("end a session", ("DELETE FROM sessions WHERE key = ?", (session.key,)))

    async def end_user(self, user: str) -> None:
        """End every session of `user` (deleted, or their role or password changed)."""
        for key in [key for key, session in self._sessions.items() if session.user == user]:
            self._forget(key)
        await self._write("end a user's sessions", ("DELETE FROM sessions WHERE user = ?", (user,)))

    def expires_at(self, session: Session) -> float:
        """When `session` ends if it stays idle from now on."""
        return min(session.last_seen + self.idle_timeout, session.created_at + self.max_age)

    def _expired(self, session: Session, now: float) -> bool:
        return now >= self.expires_at(session)

    def _forget(self, key: str) -> None:
        """Drop a session from memory; one already gone (two logouts at once, say) is no error."""
        self._sessions.pop(key, None)
        self._stored_seen.pop(key, None)

    def _drop_expired(self) -> None:
        now = self._clock()
        for key in [key for key, session in self._sessions.items() if self._expired(session, now)]:
            self._forget(key)

    def _expired_delete(self) -> tuple[str, tuple[object, ...]]:
        now = _ms(self._clock())
        sql = "DELETE FROM sessions WHERE last_seen_ms + ? <= ? OR created_ms + ? <= ?"
        return sql, (_ms(self.idle_timeout), now, _ms(self.max_age), now)

    async def _write(self, what: str, *statements: tuple[str, tuple[object, ...]]) -> None:
        """Run `statements` in one transaction; a failure is logged and the sessions go on in memory."""
        try:
            async with self._db.transaction() as db:
                for sql, args in statements:
                    await db.execute(sql, args)
        except (sqlite3.Error, OSError) as err:
            _LOGGER.error("sessions: cannot %s in the database (%s); going on in memory", what, err)


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def csrf_matches(session: Session, offered: str | None) -> bool:
    """Whether a request's CSRF token is its session's (compared in constant time)."""
    return offered is not None and hmac.compare_digest(session.csrf_token.encode(), offered.encode())
