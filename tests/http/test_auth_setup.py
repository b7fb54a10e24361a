"""First start: with no admin the hub serves only its setup page (one-time token from the log),
unless an admin comes from the environment, a password file (the demo) or `bms-hub user add`."""

import asyncio
import dataclasses
import logging
import re
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from hub.auth.audit import AuditQuery
from hub.config import HubConfig
from hub.core import Hub
from hub.demo import demo_config
from hub.http.app import create_app
from hub.http.auth import SESSION_COOKIE
from tests.auth.helpers import cookie_of, login, mqtt_client, send, session_headers
from tests.conftest import RunningHub, make_config


@pytest.fixture
async def start_bare(tmp_path: Path) -> AsyncIterator[Callable]:
    """Start hubs exactly as configured (start_hub gives every hub an admin)."""
    servers: list[TestServer] = []

    async def start(config: HubConfig) -> RunningHub:
        auth = dataclasses.replace(config.auth, hash_time_cost=1, hash_memory_kib=1024)
        hub = Hub(dataclasses.replace(config, auth=auth))
        server = TestServer(create_app(hub), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return RunningHub(hub, server)

    yield start
    for server in servers:
        await server.close()


def setup_token(log: str) -> str:
    match = re.search(r"enter the one-time setup token (\S+)", log)
    assert match, "the setup token is in the log"
    return match.group(1)


async def test_no_admin__only_the_setup_page_is_served(start_bare, tmp_path, caplog, monkeypatch):
    monkeypatch.delenv("BMS_HUB_ADMIN_PASSWORD", raising=False)
    caplog.set_level(logging.WARNING)
    running = await start_bare(make_config(tmp_path))

    api = await send(running, "GET", "/api/devices")
    assert api.status == 503
    assert api.body["error"].startswith("the hub has no admin yet: finish the setup at /setup")
    page = await send(running, "GET", "/login", headers={"Accept": "text/html"})
    assert (page.status, page.headers["Location"]) == (303, "/setup")
    assert (await send(running, "GET", "/api/health")).status == 200
    assert (
        await send(running, "POST", "/api/auth/login", json={"username": "a", "password": "b"})
    ).status == 503

    form_page = await send(running, "GET", "/setup")
    assert form_page.status == 200
    assert "one-time setup token" in form_page.body
    form_cookie = cookie_of(form_page, "bms_hub_form")
    form = {"csrf_token": form_cookie, "username": "ada", "password": "ada-password-1"}
    headers = {"Cookie": f"bms_hub_form={form_cookie}"}

    wrong = await send(running, "POST", "/setup", data={**form, "setup_token": "guess"}, headers=headers)
    assert wrong.status == 400
    assert "Wrong setup token" in wrong.body
    short = await send(
        running,
        "POST",
        "/setup",
        data={**form, "password": "x", "setup_token": setup_token(caplog.text)},
        headers=headers,
    )
    assert short.status == 400
    assert "Password: expected 10 to 1024 characters" in short.body

    done = await send(
        running, "POST", "/setup", data={**form, "setup_token": setup_token(caplog.text)}, headers=headers
    )
    assert (done.status, done.headers["Location"]) == (303, "/")
    me = await send(
        running, "GET", "/api/auth/me", headers=session_headers(cookie_of(done, SESSION_COOKIE), None)
    )
    assert (me.body["user"], me.body["role"]) == ("ada", "admin")
    assert (await send(running, "GET", "/setup")).status == 303, "the token is used up"
    assert (await send(running, "GET", "/api/devices")).status == 401


async def test_admin_password_from_the_environment(start_bare, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("BMS_HUB_ADMIN_PASSWORD", "from-the-env-1")
    caplog.set_level(logging.DEBUG)
    running = await start_bare(make_config(tmp_path))
    await login(running, "admin", "from-the-env-1")
    assert "from-the-env-1" not in caplog.text
    assert "setup token" not in caplog.text


async def test_the_demo_admin_is_in_the_user_store_and_reaches_the_broker(start_bare, tmp_path, monkeypatch):
    monkeypatch.delenv("BMS_HUB_ADMIN_PASSWORD", raising=False)
    config = demo_config(dataclasses.replace(make_config(tmp_path), integrations={}))
    running = await start_bare(dataclasses.replace(config, integrations={}))
    password = (config.data_dir / "admin-password").read_text().strip()
    await login(running, "admin", password)
    async with mqtt_client(running, "admin", password) as client:
        await client.subscribe("#")  # the admin role reads everything


async def test_user_add_on_the_command_line_ends_the_setup(start_bare, tmp_path, monkeypatch):
    monkeypatch.delenv("BMS_HUB_ADMIN_PASSWORD", raising=False)
    config = make_config(tmp_path)
    running = await start_bare(config)
    assert (await send(running, "GET", "/api/devices")).status == 503

    config_file = tmp_path / "cli.yaml"  # the same data folder, and cheap hashing for the test
    config_file.write_text(
        f"data_dir: {config.data_dir}\nauth: {{hash_time_cost: 1, hash_memory_kib: 1024}}\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", "user", "--config", str(config_file), "add", "root", "--role", "admin",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate(b"root-password-1\n")
    assert process.returncode == 0, err
    assert out.decode() == "added root (admin)\n"
    assert b"root-password-1" not in out + err

    await login(running, "root", "root-password-1")
    events = await running.hub.auth.audit.page(AuditQuery(actor="cli"))
    assert [(e.kind, e.subject) for e in events] == [("auth.user_added", "root")]
