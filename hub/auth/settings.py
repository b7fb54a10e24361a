"""The `auth:` section of the config: sessions, lockout, first-start admin, secrets key, hashing cost."""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class CookieSecurity(StrEnum):
    """When session cookies carry the Secure flag."""

    AUTO = "auto"  # when the request came over TLS, or a proxy says so with X-Forwarded-Proto: https
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True)
class AuthConfig:
    session_idle_timeout: float = 1800.0  # s without a request before a browser session ends
    session_max_age: float = 43200.0  # s after login when a session ends however active it is
    secure_cookies: CookieSecurity = CookieSecurity.AUTO
    lockout_failures: int = 5  # failed logins of a name from one address within lockout_window: locked there
    lockout_window: float = 300.0  # s over which failures are counted
    lockout_duration: float = 900.0  # s a locked user name stays locked
    mqtt_credentials_ttl: float = 3600.0  # s the browser's short-lived MQTT credentials last
    admin_password_env: str = "BMS_HUB_ADMIN_PASSWORD"  # first start: create `admin` with this password
    admin_password_file: Path | None = None  # first start: or with the password kept in this file
    secret_key_env: str = "BMS_HUB_SECRET_KEY"  # key for secrets at rest; else data_dir/secret.key
    hash_time_cost: int = 3  # argon2id passes per password hash
    hash_memory_kib: int = 65536  # argon2id memory per password hash
