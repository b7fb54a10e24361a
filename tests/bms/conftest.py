"""A running hub with BMS connections made through the REST API, and MQTT clients using their credentials."""

import json
from dataclasses import dataclass
from typing import Any

import aiomqtt
import pytest

from tests.conftest import RunningHub, StartHub
from tests.http.helpers import call

FIXED = 1_772_366_400.0  # 2026-03-01T12:00:00Z, a 30-minute boundary, for tests on a controlled clock


class Clock:
    """Epoch seconds that move only when the test says so."""

    def __init__(self, now: float = FIXED) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Credentials:
    """What the create answer hands the BMS integrator."""

    connection_id: str
    client_id: str
    username: str
    password: str
    topic: str


@pytest.fixture
async def bms_hub(start_hub: StartHub) -> RunningHub:
    """A hub with the TCP listener on (and the WebSocket on its HTTP port)."""
    return await start_hub()


async def create_connection(running: RunningHub, name: str = "Main building", **fields: Any) -> Credentials:
    status, body = await call(running, "POST", "/api/bms/connections", {"name": name, **fields})
    assert status == 201, body
    c = body["credentials"]
    return Credentials(body["id"], c["client_id"], c["username"], c["password"], c["topic"])


def bms_client(
    running: RunningHub, credentials: Credentials, transport: str = "websockets"
) -> aiomqtt.Client:
    """An aiomqtt client that logs in as the connection, over WebSocket (/mqtt) or TCP."""
    port = running.http_port if transport == "websockets" else running.tcp_port
    extra: dict[str, Any] = {"websocket_path": "/mqtt"} if transport == "websockets" else {}
    return aiomqtt.Client(
        "127.0.0.1",
        port,
        transport=transport,  # type: ignore[arg-type]
        identifier=credentials.client_id,
        username=credentials.username,
        password=credentials.password,
        timeout=10,
        **extra,
    )


def reading(point_id: str, value: object, timestamp: object, unit: str | None = None) -> dict[str, Any]:
    out = {"point_id": point_id, "value": value, "timestamp": timestamp}
    if unit is not None:
        out["unit"] = unit
    return out


def payload(data: object) -> bytes:
    return json.dumps(data).encode()
