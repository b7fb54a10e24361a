"""The demo site `bms-hub run` starts without a config file: the simulated building and one login.

Security stays on: the login is `admin` with a random password generated on first start and kept,
readable by the owner only, in the data folder (never logged). The hub creates that admin in its
user store on first start (`auth.admin_password_file`); everything else is the embedded default.
"""

import dataclasses
import secrets
from pathlib import Path

from hub.auth.private_file import kept_secret
from hub.auth.service import FIRST_ADMIN
from hub.config import HubConfig

DEMO_USER = FIRST_ADMIN
PASSWORD_FILE = "admin-password"
DEMO_INTEGRATIONS = {"simulator": {"scenario": "demo"}}


def demo_config(base: HubConfig) -> HubConfig:
    """`base` with the simulated site and an `admin` (web UI, REST API and broker) whose password is kept."""
    admin_password(base.data_dir)
    auth = dataclasses.replace(base.auth, admin_password_file=base.data_dir / PASSWORD_FILE)
    return dataclasses.replace(base, auth=auth, integrations=DEMO_INTEGRATIONS)


def admin_password(data_dir: Path) -> str:
    """The demo admin's password: read from the data folder, or generated and saved there (mode 0600)."""
    return kept_secret(data_dir / PASSWORD_FILE, lambda: secrets.token_urlsafe(12))
