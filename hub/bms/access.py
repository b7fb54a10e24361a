"""Broker access for BMS connections: each one's generated user name may publish only into `bms/{id}/`.

`BmsAccess` sits in front of the hub's own access chain: a user name that belongs to a connection
is decided here (password digest, enabled flag), any other is passed on unchanged.

The passwords are 192 random bits the hub generates, never chosen by a person: like API tokens,
a SHA-256 digest protects them at rest, and checking one costs microseconds instead of an argon2
hash's hundreds of milliseconds and 64 MiB on every (re)connect of every BMS.
"""

import hashlib
import hmac
import secrets
from collections.abc import Callable

from hub.bms.model import DEVICE_PREFIX, Connection
from hub.mqtt.access import AclPrincipal, BrokerAccess, Principal

PASSWORD_BYTES = 24  # 32 url-safe characters: far beyond guessing or brute-forcing a digest


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def password_digest(password: str) -> str:
    """What is stored to check a generated password (hex SHA-256)."""
    return hashlib.sha256(password.encode()).hexdigest()


def password_matches(digest: str, password: str) -> bool:
    return hmac.compare_digest(digest, password_digest(password))


def connection_principal(connection: Connection) -> AclPrincipal:
    """Publish readings (and anything else) only below `bms/{id}/`; subscribe nowhere else either."""
    namespace = f"bms/{connection.id}/#"
    return AclPrincipal(f"{DEVICE_PREFIX}{connection.id}", publish=(namespace,), subscribe=(namespace,))


class BmsAccess:
    """The hub's `BrokerAccess` with BMS connection users checked first."""

    def __init__(
        self,
        fallback: BrokerAccess,
        connection_for: Callable[[str], Connection | None],
    ) -> None:
        self._fallback = fallback
        self._connection_for = connection_for  # by user name

    async def authenticate(
        self, username: str | None, password: str | None, remote: str | None = None
    ) -> Principal | None:
        connection = self._connection_for(username) if username is not None else None
        if connection is None:
            return await self._fallback.authenticate(username, password, remote)
        if not connection.enabled or password is None:
            return None
        if not password_matches(connection.password_hash, password):
            return None
        return connection_principal(connection)
