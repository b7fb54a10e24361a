"""UI tests and bench/ui.py: the sped-up demo site, a user of each role, logged-in clients, Chromium."""

import dataclasses
from pathlib import Path

import aiohttp

from hub.auth.roles import Role
from hub.config import HubConfig
from hub.core import Hub
from hub.integration import PriorityArrayIntegration
from tests.conftest import RunningHub, make_config

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package: a browser is never downloaded
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
)
# The demo site, sped up: 60 simulated seconds a second and a poll every 0.2 s keep values moving.
SIMULATOR = {"simulator": {"scenario": "demo", "time_scale": 60, "poll_interval": 0.2}}
USERS = {
    "ada": (Role.ADMIN, "ada-password-1"),
    "otto": (Role.OPERATOR, "otto-password-1"),
    "vera": (Role.VIEWER, "vera-pw-1"),
}


def ui_config(tmp_path: Path) -> HubConfig:
    """make_config with the demo site and cheap password hashing (tests log in often)."""
    base = make_config(tmp_path)
    return dataclasses.replace(
        base,
        integrations=SIMULATOR,
        auth=dataclasses.replace(base.auth, hash_time_cost=1, hash_memory_kib=8192),
    )


async def add_users(hub: Hub) -> None:
    """Give the hub the USERS (which also ends its first-start setup)."""
    for name, (role, password) in USERS.items():
        await hub.auth.users.add(name, role, password)


async def logged_in(running: RunningHub, user: str) -> aiohttp.ClientSession:
    """An HTTP client with `user`'s browser session: its cookie, and its CSRF header on every request."""
    session = aiohttp.ClientSession(
        f"http://127.0.0.1:{running.http_port}", cookie_jar=aiohttp.CookieJar(unsafe=True)
    )
    async with session.post("/api/auth/login", json={"username": user, "password": USERS[user][1]}) as answer:
        assert answer.status == 200, await answer.text()
        csrf = (await answer.json())["csrf_token"]
    session.headers["X-CSRF-Token"] = csrf
    return session


async def slots(running: RunningHub, point_id: str) -> tuple[object, ...]:
    """The point's priority array as the simulated device holds it (what a write would change)."""
    simulator = running.hub.integrations.get("simulator")
    assert isinstance(simulator, PriorityArrayIntegration)
    array = await simulator.priority_array(point_id)
    assert array is not None
    return array.slots
