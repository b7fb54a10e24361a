"""Shared fixtures: a real hub on an ephemeral port, and MQTT clients that talk to it over real sockets."""

import asyncio
import dataclasses
import importlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import aiomqtt
import pytest
from aiohttp.test_utils import TestServer

from hub.auth.roles import Role
from hub.config import HubConfig, IdentityConfig, MqttConfig, MqttUser, TcpListenerConfig
from hub.core import Hub
from hub.discovery import DiscoveryOperation, DiscoveryService
from hub.http.app import create_app
from hub.http.auth import CSRF_HEADER, SESSION_COOKIE
from hub.supervisor import DEFAULT_BACKOFF, Backoff
from tests.fake_plugins import DOMAINS, PluginFake

USERS = (
    MqttUser("admin", "admin-pw", publish=("#",), subscribe=("#",)),
    MqttUser("alice", "alice-pw", publish=("site/a/#",), subscribe=("site/a/#",)),
    MqttUser(
        "bob",
        "bob-pw",
        publish=("site/b/#",),
        subscribe=("site/b/#", "site/+/public"),
        deny=("site/b/secret/#",),
    ),
)
PASSWORDS = {user.username: user.password for user in USERS}
# A test hub starts with the admin below in its user store (from auth.admin_password_file) and a
# browser session for each role (RunningHub.http). Tests that log in with a password as operator or
# viewer first add those users with `add_hub_users`.
HUB_USERS = {role.value: (role, f"{role.value}-password") for role in Role}
IDENTITY = IdentityConfig(org_id="acme", site_id="hq", iot_device_id="hub-1")
TRANSPORTS = ("websockets", "tcp")
WAIT_S = 5.0  # a bound on waits for events; reached only when a test fails


@dataclass
class RunningHub:
    """A started hub and where to reach it."""

    hub: Hub
    server: TestServer
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)  # HUB_USERS name -> its headers

    @property
    def http_port(self) -> int:
        return self.server.port  # type: ignore[return-value]

    @property
    def tcp_port(self) -> int:
        port = self.hub.broker.tcp_port
        assert port is not None, "start the hub with the TCP listener enabled"
        return port

    def http(self, user: str | None = "admin") -> aiohttp.ClientSession:
        """An HTTP client for this hub's port acting as `user` (admin, operator, viewer) or anonymous.

        It sends the user's session cookie and CSRF header, as a logged-in browser page does.
        """
        headers = self.sessions[user] if user else {}
        return aiohttp.ClientSession(f"http://127.0.0.1:{self.http_port}", headers=headers)

    def fake(self, domain: str) -> PluginFake:
        """A loaded fake integration (see the `fake_plugins` fixture)."""
        integration = self.hub.integrations.get(domain)
        assert isinstance(integration, PluginFake), f"{domain} is not a loaded fake integration"
        return integration

    def client(
        self, transport: str = "websockets", user: str | None = "admin", **kwargs: object
    ) -> aiomqtt.Client:
        """An aiomqtt client for this hub over WebSocket (/mqtt on the HTTP port) or TCP."""
        port = self.http_port if transport == "websockets" else self.tcp_port
        extra: dict[str, object] = {"websocket_path": "/mqtt"} if transport == "websockets" else {}
        return aiomqtt.Client(
            "127.0.0.1",
            port,
            transport=transport,  # type: ignore[arg-type]
            username=user,
            password=PASSWORDS.get(user) if user else None,
            timeout=10,
            **extra,
            **kwargs,  # type: ignore[arg-type]
        )


def make_config(tmp_path: Path, **mqtt_changes: object) -> HubConfig:
    """A config with the test users, the TCP listener on a free loopback port, data in tmp_path."""
    mqtt = MqttConfig(users=USERS, tcp=TcpListenerConfig(enabled=True, host="127.0.0.1", port=0))
    return HubConfig(
        data_dir=tmp_path / "data",
        mqtt=dataclasses.replace(mqtt, **mqtt_changes),  # type: ignore[arg-type]
        identity=IDENTITY,
    )


async def until(
    service: DiscoveryService, operation_id: str, check: Callable[[DiscoveryOperation], bool]
) -> DiscoveryOperation:
    """The first update of a discovery operation that passes `check`."""
    async with asyncio.timeout(WAIT_S):
        async for operation in service.updates(operation_id):
            if check(operation):
                return operation
    raise AssertionError(f"the operation ended without passing the check: {operation}")


async def finished(service: DiscoveryService, operation_id: str) -> DiscoveryOperation:
    """The operation once it has ended."""
    return await until(service, operation_id, lambda operation: operation.finished)


def fakes_config(tmp_path: Path) -> HubConfig:
    """make_config with the fake integrations: alpha with two devices, beta with one."""
    return dataclasses.replace(make_config(tmp_path), integrations={"alpha": {"devices": 2}, "beta": {}})


@pytest.fixture(autouse=True)
def _in_own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each test in its own folder, as `bms-hub run` runs in a site's folder: relative paths
    that default to the current folder (the flow folders) are the test's, never the checkout's."""
    monkeypatch.chdir(tmp_path)


StartHub = Callable[..., Awaitable[RunningHub]]


async def role_sessions(hub: Hub) -> dict[str, dict[str, str]]:
    """A browser session for each of HUB_USERS: the headers a logged-in page sends (cookie, CSRF)."""
    sessions = {}
    for name, (role, _) in HUB_USERS.items():
        session, session_id = await hub.auth.sessions.create(name, role)
        sessions[name] = {"Cookie": f"{SESSION_COOKIE}={session_id}", CSRF_HEADER: session.csrf_token}
    return sessions


async def add_hub_users(hub: Hub) -> None:
    """Add the HUB_USERS a started hub does not have yet to its user store (to log in with passwords)."""
    for name, (role, password) in HUB_USERS.items():
        if await hub.auth.users.get(name) is None:
            await hub.auth.users.add(name, role, password)


@pytest.fixture
async def start_hub(tmp_path: Path) -> AsyncIterator[StartHub]:
    """Start real hubs (aiohttp on an ephemeral port); they are stopped after the test."""
    servers: list[TestServer] = []

    async def start(
        config: HubConfig | None = None, backoff: Backoff = DEFAULT_BACKOFF, **mqtt_changes: object
    ) -> RunningHub:
        config = config or make_config(tmp_path, **mqtt_changes)
        admin_file = tmp_path / "admin-password"
        admin_file.write_text(HUB_USERS["admin"][1])
        # Cheap password hashes (the real cost is ~0.3 s a hash); the first admin from a file.
        auth = dataclasses.replace(
            config.auth, hash_time_cost=1, hash_memory_kib=1024, admin_password_file=admin_file
        )
        hub = Hub(dataclasses.replace(config, auth=auth), backoff=backoff)
        server = TestServer(create_app(hub), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return RunningHub(hub, server, await role_sessions(hub))

    yield start
    for server in reversed(servers):
        await server.close()


@pytest.fixture
def fake_plugins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Install tests.fake_plugins as the integrations alpha and beta: a dist-info folder on sys.path."""
    site = tmp_path_factory.mktemp("fake_plugins")
    info = site / "bms_hub_fakes-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bms-hub-fakes\nVersion: 0.1.0\n")
    entries = "".join(f"{domain} = tests.fake_plugins:{domain}\n" for domain in DOMAINS)
    (info / "entry_points.txt").write_text(f"[bms_hub.integrations]\n{entries}")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(site))
        importlib.invalidate_caches()


@pytest.fixture
async def fakes_hub(start_hub: StartHub, fake_plugins: None, tmp_path: Path) -> RunningHub:
    """A running hub with the fake integrations alpha (two devices) and beta (one device)."""
    return await start_hub(fakes_config(tmp_path))
