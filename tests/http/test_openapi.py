"""/api/openapi.json: in step with the routes, served, and fuzzed with schemathesis against a real hub."""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from hub.core import Hub
from hub.http.app import create_app
from hub.http.openapi import openapi_document
from tests import test_cli
from tests.conftest import RunningHub, make_config

METHODS = ("get", "post", "put", "patch", "delete")
start_process = test_cli.start_process  # the fixture that runs `python -m hub run`
# Operations that would end the fuzz run's own session if a generated id hit it (revoking its token).
# /api/auth/logout is fuzzed: the run calls with a token, so it answers 400 and ends nothing.
EXCLUDED = ("--exclude-path", "/api/tokens/{token_id}")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# What the fuzz run asserts: no 5xx, and every response matches the document (status, type, body).
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)


def _routed(tmp_path: Path) -> set[tuple[str, str]]:
    app = create_app(Hub(make_config(tmp_path)))
    return {
        (route.resource.canonical, route.method.lower())
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method.lower() in METHODS
    }


def _documented() -> set[tuple[str, str]]:
    paths = openapi_document()["paths"]
    return {(path, method) for path, item in paths.items() for method in item if method in METHODS}


def test_every_api_route_is_documented_and_every_operation_is_routed(tmp_path: Path) -> None:
    routed, documented = _routed(tmp_path), _documented()
    missing = sorted(routed - documented)
    assert not missing, f"routes missing from hub/http/openapi.yaml: {missing}"
    assert not documented - routed, f"operations with no route: {sorted(documented - routed)}"


async def test_the_document_is_served(fakes_hub: RunningHub) -> None:
    async with fakes_hub.http() as session, session.get("/api/openapi.json") as response:
        assert response.status == 200
        served = await response.json()
    assert served == openapi_document()
    assert served["openapi"].startswith("3.")


async def _admin_token(port: int, password: str) -> str:
    """An admin API token, made the way an integrator makes one: log in, then POST /api/tokens."""
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        login = {"username": "admin", "password": password}
        async with session.post("/api/auth/login", json=login) as response:
            assert response.status == 200, await response.text()
            csrf = (await response.json())["csrf_token"]
        body = {"name": "schemathesis", "role": "admin"}
        async with session.post("/api/tokens", json=body, headers={"X-CSRF-Token": csrf}) as response:
            assert response.status == 201, await response.text()
            return (await response.json())["token"]


# Above pytest-timeout's 120 s: the fuzz run has its own 240 s bound below, and argon2 hashing
# (users, logins, BMS passwords) makes it take 100 s or more on a busy machine.
@pytest.mark.timeout(300)
async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    tmp_path: Path, start_process: Callable[..., Awaitable[test_cli.HubProcess]]
) -> None:
    running = await start_process("--port", "0", cwd=tmp_path)  # the demo site: the simulated building
    port = await running.http_port()
    password = (tmp_path / "data" / "admin-password").read_text().strip()
    token = await _admin_token(port, password)
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS), "run", f"http://127.0.0.1:{port}/api/openapi.json",
        "--header", f"Authorization: Bearer {token}", "--checks", CHECKS,
        *EXCLUDED, "--phases", "examples,coverage,fuzzing", "--max-examples", "25",
        "--output-truncate", "false", "--report-dir", str(tmp_path / "schemathesis"),
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SCHEMATHESIS_TELEMETRY": "false"},
    )  # fmt: skip
    async with asyncio.timeout(240):
        output, _ = await process.communicate()
    report = output.decode()
    assert process.returncode == 0, report
    health = await test_cli.get_health(port)
    assert health["status"] == "ok", f"the hub must still be healthy after the fuzz run: {health}"
