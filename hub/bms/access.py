"""Broker access for BMS connections: each one's generated user name may publish only into `bms/{id}/`.

`BmsAccess` sits in front of the hub's own access chain: a user name that belongs to a connection
is decided here (argon2id hash, enabled flag), any other is passed on unchanged.
"""

import secrets
from collections.abc import Awaitable, Callable

from hub.bms.model import DEVICE_PREFIX, Connection
from hub.mqtt.access import AclPrincipal, BrokerAccess, Principal

PASSWORD_BYTES = 24  # 32 url-safe characters: far beyond guessing, so one argon2 check is enough


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


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
        verify: Callable[[str, str], Awaitable[bool]],
    ) -> None:
        self._fallback = fallback
        self._connection_for = connection_for  # by user name
        self._verify = verify  # async (hash, password) -> bool

    async def authenticate(self, username: str | None, password: str | None) -> Principal | None:
        connection = self._connection_for(username) if username is not None else None
        if connection is None:
            return await self._fallback.authenticate(username, password)
        if not connection.enabled or password is None:
            return None
        if not await self._verify(connection.password_hash, password):
            return None
        # The connection may have been regenerated or disabled while the hash was being checked.
        if self._connection_for(username) is not connection:
            return None
        return connection_principal(connection)
