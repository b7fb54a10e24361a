"""The `auth:` section of the config file: values, defaults and errors that name the line."""

from pathlib import Path

import pytest

from hub.auth.settings import AuthConfig, CookieSecurity
from hub.config import ConfigError, load_config


def test_auth_section__valid(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "auth:\n  session_idle_timeout: 600\n  secure_cookies: always\n  admin_password_file: pw.txt\n"
    )
    auth = load_config(path).auth
    assert auth.session_idle_timeout == 600
    assert auth.secure_cookies is CookieSecurity.ALWAYS
    assert auth.admin_password_file == Path("pw.txt")
    assert auth.lockout_failures == AuthConfig().lockout_failures


def test_auth_section__invalid(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text("auth:\n  session_idle_timeout: 5\n  secure_cookies: sometimes\n  lockout_failures: 0\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value).splitlines() == [
        f"{path}:2: auth.session_idle_timeout: expected a number of seconds between 60 and 2.592e+06, got 5",
        f"{path}:3: auth.secure_cookies: expected one of auto, always, never, got 'sometimes'",
        f"{path}:4: auth.lockout_failures: expected int between 1 and 1000, got 0",
    ]
