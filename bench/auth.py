"""Security benchmark: what authentication costs per request, per login and per MQTT connection.

Run from the repository root:

    .venv/bin/python bench/auth.py            # 500 requests per caller kind, 5 logins
    .venv/bin/python bench/auth.py --quick    # 100 requests, 3 logins

Method
- One real hub in this process (aiohttp on a free loopback port, no integrations), with the
  config's default argon2id cost (3 passes, 64 MiB) unless --hash-memory-kib says otherwise.
- Request latency: GET /api/auth/me (a handler that does no work) over loopback, sequentially,
  with an API token (one SQLite lookup by digest), with a session cookie (in memory), and
  GET /api/health with no caller (public: the middleware's table lookup only, and a bigger body).
- Login: POST /api/auth/login with the right password (one argon2id verify in a worker thread,
  one audit row committed).
- MQTT: CONNECT + CONNACK over /mqtt of a hub user (argon2id verify) and of the browser's
  short-lived credentials (a dictionary lookup).
Medians and p95 over the runs; nothing is asserted.
"""

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import aiomqtt
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.auth.roles import Role
from hub.config import FlowsConfig, HubConfig
from hub.core import Hub
from hub.http.app import create_app

PASSWORD = "bench-password-1"


def summary(name: str, samples_s: list[float]) -> str:
    ordered = sorted(samples_s)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    median = statistics.median(ordered)
    return f"{name:<44} median {median * 1000:8.2f} ms   p95 {p95 * 1000:8.2f} ms   n={len(ordered)}"


async def timed(runs: int, action: Callable[[], Awaitable[None]]) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - start)
    return samples


async def main(requests: int, logins: int, memory_kib: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        flows = FlowsConfig(directories=(Path(folder) / "flows",))  # none: requests and logins alone
        base = HubConfig(data_dir=Path(folder) / "data", flows=flows)
        config = dataclasses.replace(base, auth=dataclasses.replace(base.auth, hash_memory_kib=memory_kib))
        hub = Hub(config)
        server = TestServer(create_app(hub), host="127.0.0.1")
        await server.start_server()
        try:
            await hub.auth.users.add("bench", Role.ADMIN, PASSWORD)
            _, token = await hub.auth.users.create_token("bench", Role.VIEWER, "bench")
            _, cookie = hub.auth.sessions.create("bench", Role.ADMIN)
            url = f"http://127.0.0.1:{server.port}"
            print(f"argon2id: {config.auth.hash_time_cost} passes, {memory_kib} KiB")
            async with aiohttp.ClientSession(url, cookie_jar=aiohttp.DummyCookieJar()) as http:

                async def get(path: str, headers: dict[str, str]) -> None:
                    async with http.get(path, headers=headers) as response:
                        await response.read()
                        assert response.status == 200, response.status

                async def login() -> None:
                    body = {"username": "bench", "password": PASSWORD}
                    async with http.post("/api/auth/login", json=body) as response:
                        assert response.status == 200, await response.text()

                await get("/api/health", {})  # warm up
                bearer = {"Authorization": f"Bearer {token}"}
                by_cookie = {"Cookie": f"bms_hub_session={cookie}"}
                print(
                    summary(
                        "GET /api/auth/me, API token",
                        await timed(requests, lambda: get("/api/auth/me", bearer)),
                    )
                )
                print(
                    summary(
                        "GET /api/auth/me, session cookie",
                        await timed(requests, lambda: get("/api/auth/me", by_cookie)),
                    )
                )
                print(
                    summary("GET /api/health, public", await timed(requests, lambda: get("/api/health", {})))
                )
                print(summary("POST /api/auth/login (argon2id verify)", await timed(logins, login)))
            credentials = hub.auth.browser_credentials.issue("bench", Role.VIEWER)

            async def connect(username: str, password: str) -> None:
                async with aiomqtt.Client(
                    "127.0.0.1", server.port, transport="websockets", websocket_path="/mqtt",
                    username=username, password=password, timeout=10,
                ):  # fmt: skip
                    pass

            print(
                summary(
                    "MQTT connect, hub user (argon2id verify)",
                    await timed(logins, lambda: connect("bench", PASSWORD)),
                )
            )
            print(
                summary(
                    "MQTT connect, browser credentials",
                    await timed(logins, lambda: connect(credentials.username, credentials.password)),
                )
            )
        finally:
            await server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--hash-memory-kib", type=int, default=65536)
    args = parser.parse_args()
    asyncio.run(main(100 if args.quick else 500, 3 if args.quick else 5, args.hash_memory_kib))
