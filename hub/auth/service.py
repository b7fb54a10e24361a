"""The hub's security services in one object: users, sessions, lockout, MQTT access, secrets and audit.

First start: while no admin exists the hub serves only its setup page, which asks for a one-time
token printed in the log. An admin can also come from `bms-hub user add`, from a password in
the environment (`auth.admin_password_env`, for containers) or in a file (`auth.admin_password_file`).
"""

import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hub.auth.audit import AuditLog, AuthEvent
from hub.auth.lockout import Locked, Lockout, log_lockout
from hub.auth.mqtt_access import BrowserCredentials, HubAccess
from hub.auth.passwords import Passwords
from hub.auth.roles import Role
from hub.auth.secrets import SecretBox
from hub.auth.sessions import Sessions
from hub.auth.settings import AuthConfig
from hub.auth.users import User, UserStore
from hub.identity import Identity
from hub.mqtt.access import ConfigUserAccess
from hub.store_tables import Database

_LOGGER = logging.getLogger(__name__)
FIRST_ADMIN = "admin"


@dataclass(frozen=True)
class LoginRefused(Exception):
    """Why a login failed: wrong credentials, or a locked name (`retry_after` seconds)."""

    message: str
    retry_after: float = 0.0


class AuthService:
    """Security state of one hub; `start()` once the store is open."""

    def __init__(
        self,
        config: AuthConfig,
        data_dir: Path,
        db: Database,
        config_users: ConfigUserAccess,
        identity: Callable[[], Identity],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._data_dir = data_dir
        self.users = UserStore(db, Passwords(config), clock)
        self.sessions = Sessions(config.session_idle_timeout, config.session_max_age, db, clock)
        self.lockout = Lockout(config.lockout_failures, config.lockout_window, config.lockout_duration, clock)
        self.browser_credentials = BrowserCredentials(config.mqtt_credentials_ttl, clock)
        self.audit = AuditLog(db, clock)
        self.access = HubAccess(config_users, self.users, self.browser_credentials, self.lockout, identity)
        self.setup_token: str | None = None  # set while the hub waits for its first admin
        self._secrets: SecretBox | None = None

    async def start(self) -> None:
        """Take up the last run's sessions; create the first admin from the environment or a file, or
        wait for one with a setup token."""
        kept = await self.sessions.load()
        if kept:
            _LOGGER.info("kept %d browser session(s) from the last run", kept)
        if await self.users.admin_count():
            return
        password = self._bootstrap_password()
        if password is not None:
            await self.users.add(FIRST_ADMIN, Role.ADMIN, password)
            await self.audit.record(AuthEvent.USER_ADDED, FIRST_ADMIN, "hub", None, role=str(Role.ADMIN))
            _LOGGER.info("created the first admin user %r", FIRST_ADMIN)
            return
        self.setup_token = secrets.token_urlsafe(16)
        _LOGGER.warning(
            "no admin user yet: open /setup in a browser and enter the one-time setup token %s "
            "(or run `bms-hub user add NAME --role admin`, or set %s)",
            self.setup_token, self.config.admin_password_env,
        )  # fmt: skip

    def _bootstrap_password(self) -> str | None:
        from_env = os.environ.get(self.config.admin_password_env)
        if from_env:
            return from_env
        path = self.config.admin_password_file
        if path is not None and path.exists():
            return path.read_text(encoding="utf-8").strip() or None
        return None

    async def finish_setup(self, token: str, name: str, password: str, remote: str | None) -> User | None:
        """Create the first admin if `token` is the setup token; None (and nothing done) otherwise."""
        expected, self.setup_token = self.setup_token, None  # used once, even by two posts at the same time
        if expected is None or not secrets.compare_digest(expected.encode(), token.encode()):
            self.setup_token = expected
            return None
        try:
            user = await self.users.add(name, Role.ADMIN, password)
        except BaseException:
            self.setup_token = expected
            raise
        await self.audit.record(AuthEvent.SETUP, name, name, remote, role=str(Role.ADMIN))
        return user

    async def setup_pending(self) -> bool:
        """Whether the hub still waits for its first admin (one added by `bms-hub user add` ends it)."""
        if self.setup_token is not None and await self.users.admin_count():
            self.setup_token = None
        return self.setup_token is not None

    async def login(self, name: str, password: str, remote: str | None) -> User:
        """The user for these credentials; LoginRefused (recorded in the audit log) otherwise."""
        left = self.lockout.locked_for(name, remote)
        if left:
            await self.audit.record(AuthEvent.LOGIN_FAILED, name, name, remote, reason="locked")
            raise LoginRefused(f"too many failed logins: try again in {left:.0f} s", left)
        user = await self.users.check_password(name, password)
        if user is None:
            locked = self.lockout.failed(name, remote)
            _LOGGER.info("refused a login as %r from %s", name, remote)
            await self.audit.record(AuthEvent.LOGIN_FAILED, name, name, remote, reason="wrong credentials")
            if locked is not Locked.NOTHING:
                await self.audit.record(AuthEvent.LOCKED_OUT, name, "hub", remote, scope=locked.value)
                log_lockout(name, remote, locked)
            raise LoginRefused("wrong user name or password")
        self.lockout.succeeded(name, remote)
        await self.audit.record(AuthEvent.LOGIN, name, name, remote)
        return user

    async def user_changed(self, name: str) -> None:
        """End the sessions and browser MQTT credentials of a user who was deleted or changed."""
        self.browser_credentials.revoke_owner(name)
        await self.sessions.end_user(name)

    @property
    def secrets(self) -> SecretBox:
        """The box for secrets at rest (its key is loaded or created on first use)."""
        if self._secrets is None:
            self._secrets = SecretBox.load(self._data_dir, self.config.secret_key_env)
        return self._secrets
