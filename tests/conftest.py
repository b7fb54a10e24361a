"""Shared fixtures: a real hub on an ephemeral port, and MQTT clients that talk to it over real sockets."""

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import pytest
from aiohttp.test_utils import TestServer

from hub.config import HubConfig, IdentityConfig, MqttConfig, MqttUser, TcpListenerConfig
from hub.core import Hub
from hub.http.app import create_app
from hub.supervisor import DEFAULT_BACKOFF, Backoff

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
IDENTITY = IdentityConfig(org_id="acme", site_id="hq", iot_device_id="hub-1")
TRANSPORTS = ("websockets", "tcp")


@dataclass
class RunningHub:
    """A started hub and where to reach it."""

    hub: Hub
    server: TestServer

    @property
    def http_port(self) -> int:
        return self.server.port  # type: ignore[return-value]

    @property
    def tcp_port(self) -> int:
        port = self.hub.broker.tcp_port
        assert port is not None, "start the hub with the TCP listener enabled"
        return port

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


StartHub = Callable[..., Awaitable[RunningHub]]


@pytest.fixture
async def start_hub(tmp_path: Path) -> AsyncIterator[StartHub]:
    """Start real hubs (aiohttp on an ephemeral port); they are stopped after the test."""
    servers: list[TestServer] = []

    async def start(
        config: HubConfig | None = None, backoff: Backoff = DEFAULT_BACKOFF, **mqtt_changes: object
    ) -> RunningHub:
        hub = Hub(config or make_config(tmp_path, **mqtt_changes), backoff=backoff)
        server = TestServer(create_app(hub), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return RunningHub(hub, server)

    yield start
    for server in reversed(servers):
        await server.close()
