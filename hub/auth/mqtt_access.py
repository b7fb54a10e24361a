"""Who may use the broker: config machine users, the hub's users by role, and short-lived browser credentials.

A config user (`mqtt.users`, each with its own ACL) is checked first, then the user store (the
role's ACL on the hub's topic tree), then the credentials a browser session obtained from
`POST /api/auth/mqtt-credentials` (read-only, for the session's role). Failed passwords count
toward the same lockout as HTTP logins.
"""

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub.auth.lockout import Lockout, log_lockout
from hub.auth.roles import Role
from hub.auth.users import UserStore
from hub.identity import Identity
from hub.mqtt.access import AclPrincipal, ConfigUserAccess, Principal

CREDENTIALS_PREFIX = "web-"  # short-lived credentials' user names; never a stored user's name


@dataclass(frozen=True)
class RoleAcl:
    """Topic filters a role may publish to and subscribe to (receive from)."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def role_acl(role: Role, identity: Identity) -> RoleAcl:
    """Read the site's topic tree for every role; operators also send commands and alert actions."""
    site = f"iot/global/{identity.org_id}/{identity.site_id}/"
    if role is Role.ADMIN:
        return RoleAcl(publish=("#",), subscribe=("#",))
    read = (f"{site}#",)
    if role is Role.OPERATOR:
        return RoleAcl(
            publish=(f"{identity.topic_prefix}command/+/request", f"{site}alert-management/#"), subscribe=read
        )
    return RoleAcl(publish=(), subscribe=read)


@dataclass(frozen=True)
class MqttCredentials:
    username: str
    password: str
    role: Role
    owner: str  # the user (or token) they were issued to
    expires_at: float  # UTC epoch seconds


class BrowserCredentials:
    """Short-lived MQTT credentials handed to a logged-in browser; they expire on their own."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self._ttl = ttl
        self._clock = clock
        self._issued: dict[str, MqttCredentials] = {}

    def issue(self, owner: str, role: Role, not_after: float | None = None) -> MqttCredentials:
        """New credentials for `owner`, expiring after the TTL (or at `not_after`, if sooner)."""
        now = self._clock()
        for name in [n for n, c in self._issued.items() if c.expires_at <= now]:
            del self._issued[name]
        expires = now + self._ttl if not_after is None else min(now + self._ttl, not_after)
        username = CREDENTIALS_PREFIX + secrets.token_hex(8)
        credentials = MqttCredentials(username, secrets.token_urlsafe(24), role, owner, expires)
        self._issued[username] = credentials
        return credentials

    def check(self, username: str, password: str) -> MqttCredentials | None:
        credentials = self._issued.get(username)
        if credentials is None or credentials.expires_at <= self._clock():
            return None
        if not hmac.compare_digest(credentials.password.encode(), password.encode()):
            return None
        return credentials

    def revoke_owner(self, owner: str) -> None:
        for name in [n for n, c in self._issued.items() if c.owner == owner]:
            del self._issued[name]


class HubAccess:
    """The hub's `BrokerAccess`: config users, then stored users, then browser credentials."""

    def __init__(
        self,
        config_users: ConfigUserAccess,
        users: UserStore,
        browser: BrowserCredentials,
        lockout: Lockout,
        identity: Callable[[], Identity],
    ) -> None:
        self._config_users = config_users
        self._users = users
        self._browser = browser
        self._lockout = lockout
        self._identity = identity

    async def authenticate(
        self, username: str | None, password: str | None, remote: str | None = None
    ) -> Principal | None:
        principal = await self._config_users.authenticate(username, password)
        if principal is not None or username is None or password is None:
            return principal
        if username.startswith(CREDENTIALS_PREFIX):
            credentials = self._browser.check(username, password)
            if credentials is None:
                return None
            read = role_acl(credentials.role, self._identity()).subscribe
            return AclPrincipal(f"{credentials.owner} (browser)", publish=(), subscribe=read)
        if self._lockout.locked_for(username, remote):
            return None
        user = await self._users.check_password(username, password)
        if user is None:
            log_lockout(username, remote, self._lockout.failed(username, remote))
            return None
        self._lockout.succeeded(username, remote)
        acl = role_acl(user.role, self._identity())
        return AclPrincipal(user.name, publish=acl.publish, subscribe=acl.subscribe)
