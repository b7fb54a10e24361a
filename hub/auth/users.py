"""The user and API-token tables: users log in with a password, machines with a token shown once.

Passwords are stored as argon2id hashes; tokens, being long random strings, as SHA-256 digests
(fast to look up on every request, useless to whoever reads the database).
"""

import hashlib
import re
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub.auth.passwords import Passwords
from hub.auth.roles import Role
from hub.store_tables import Database

TOKEN_PREFIX = "bmsh_"
USER_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
LAST_USED_RESOLUTION_S = 60.0  # a token's last-used time is written at most this often


class UserExists(Exception):
    """A user with this name exists already."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    created_at: float  # UTC epoch seconds
    updated_at: float


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    role: Role
    created_by: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore:
    """Users and tokens in the hub's database (schema migration m004)."""

    def __init__(self, db: Database, passwords: Passwords, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._passwords = passwords
        self._clock = clock

    # -- users ----------------------------------------------------------------------------

    async def add(self, name: str, role: Role, password: str) -> User:
        """Create a user; UserExists if the name is taken."""
        digest = await self._passwords.hash(password)
        now = self._now_ms()
        try:
            async with self._db.transaction() as db:
                await db.execute(
                    "INSERT INTO users (name, role, password_hash, created_ms, updated_ms) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (name, str(role), digest, now, now),
                )
        except sqlite3.IntegrityError:
            raise UserExists(name) from None
        return User(name, role, now / 1000, now / 1000)

    async def get(self, name: str) -> User | None:
        async with self._db.reader.execute(
            "SELECT name, role, created_ms, updated_ms FROM users WHERE name = ?", (name,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else User(row[0], Role(row[1]), row[2] / 1000, row[3] / 1000)

    async def all(self) -> list[User]:
        async with self._db.reader.execute(
            "SELECT name, role, created_ms, updated_ms FROM users ORDER BY name"
        ) as cursor:
            return [User(r[0], Role(r[1]), r[2] / 1000, r[3] / 1000) for r in await cursor.fetchall()]

    async def update(
        self, name: str, *, role: Role | None = None, password: str | None = None
    ) -> User | None:
        """Change a user's role and/or password; None if there is no such user."""
        digest = await self._passwords.hash(password) if password is not None else None
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "UPDATE users SET role = coalesce(?, role), password_hash = coalesce(?, password_hash), "
                "updated_ms = ? WHERE name = ?",
                (None if role is None else str(role), digest, self._now_ms(), name),
            )
            changed = cursor.rowcount
        return await self.get(name) if changed else None

    async def delete(self, name: str) -> bool:
        async with self._db.transaction() as db:
            cursor = await db.execute("DELETE FROM users WHERE name = ?", (name,))
            return cursor.rowcount > 0

    async def admin_count(self) -> int:
        async with self._db.reader.execute("SELECT count(*) FROM users WHERE role = 'admin'") as cursor:
            row = await cursor.fetchone()
        return row[0] if row else 0

    async def check_password(self, name: str, password: str) -> User | None:
        """The user if `password` is theirs; an unknown name costs as much time as a wrong password."""
        async with self._db.reader.execute(
            "SELECT role, password_hash, created_ms, updated_ms FROM users WHERE name = ?", (name,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            await self._passwords.burn(password)
            return None
        if not await self._passwords.verify(row[1], password):
            return None
        return User(name, Role(row[0]), row[2] / 1000, row[3] / 1000)

    # -- API tokens -----------------------------------------------------------------------

    async def create_token(self, name: str, role: Role, created_by: str) -> tuple[ApiToken, str]:
        """A new token and its secret (returned this once; only its digest is kept)."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._now_ms()
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO api_tokens (name, role, digest, created_by, created_ms) VALUES (?, ?, ?, ?, ?)",
                (name, str(role), token_digest(secret), created_by, now),
            )
            token_id = cursor.lastrowid
        assert token_id is not None
        return ApiToken(token_id, name, role, created_by, now / 1000, None, None), secret

    async def tokens(self) -> list[ApiToken]:
        async with self._db.reader.execute(f"SELECT {_TOKEN_COLUMNS} FROM api_tokens ORDER BY id") as cursor:
            return [_token(row) for row in await cursor.fetchall()]

    async def revoke_token(self, token_id: int) -> ApiToken | None:
        """Revoke a token (kept, for the record); None if there is no such token."""
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE api_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL",
                (self._now_ms(), token_id),
            )
        async with self._db.reader.execute(
            f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE id = ?", (token_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _token(row)

    async def check_token(self, secret: str) -> ApiToken | None:
        """The live token with this secret (its last-used time refreshed), or None."""
        async with self._db.reader.execute(
            f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE digest = ? AND revoked_ms IS NULL",
            (token_digest(secret),),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        token = _token(row)
        now = self._now_ms()
        if token.last_used_at is None or now / 1000 - token.last_used_at >= LAST_USED_RESOLUTION_S:
            async with self._db.transaction() as db:
                await db.execute("UPDATE api_tokens SET last_used_ms = ? WHERE id = ?", (now, token.id))
        return token

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)


_TOKEN_COLUMNS = "id, name, role, created_by, created_ms, last_used_ms, revoked_ms"


def _token(row: tuple) -> ApiToken:
    def seconds(ms: int | None) -> float | None:
        return None if ms is None else ms / 1000

    return ApiToken(row[0], row[1], Role(row[2]), row[3], row[4] / 1000, seconds(row[5]), seconds(row[6]))
