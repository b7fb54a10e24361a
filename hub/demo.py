"""The demo site `bms-hub run` starts without a config file: the simulated building and one login.

Security stays on: the login is `admin` with a random password generated on first start and kept,
readable by the owner only, in the data folder (never logged), like the security issue's users
will be. Everything else is the embedded default configuration.
"""

import dataclasses
import os
import secrets
from pathlib import Path

from hub.config import HubConfig, MqttUser

DEMO_USER = "admin"
PASSWORD_FILE = "admin-password"
DEMO_INTEGRATIONS = {"simulator": {"scenario": "demo"}}


def demo_config(base: HubConfig) -> HubConfig:
    """`base` with the simulated site and an `admin` user (broker and REST API) whose password is kept."""
    admin = MqttUser(DEMO_USER, admin_password(base.data_dir), publish=("#",), subscribe=("#",))
    return dataclasses.replace(
        base, mqtt=dataclasses.replace(base.mqtt, users=(admin,)), integrations=DEMO_INTEGRATIONS
    )


def admin_password(data_dir: Path) -> str:
    """The demo admin's password: read from the data folder, or generated and saved there (mode 0600)."""
    path = data_dir / PASSWORD_FILE
    try:
        kept = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        return kept
    password = secrets.token_urlsafe(12)
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{PASSWORD_FILE}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(password + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)  # a crash leaves the old state or the whole new file, never half of it
    return password
