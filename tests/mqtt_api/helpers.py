"""A real MQTT client (aiomqtt, on paho-mqtt) that sends the contract's requests and collects replies."""

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiomqtt

from hub.config import HubConfig, MqttApiConfig
from tests.conftest import WAIT_S, RunningHub, make_config

PREFIX = "iot/global/acme/hq/hub-1/"
SIMULATOR = {"simulator": {"scenario": "demo", "time_scale": 60}}


def simulator_config(tmp_path: Path, **mqtt_api: Any) -> HubConfig:
    """The test config with the simulated demo floor and the given `mqtt_api` settings."""
    return dataclasses.replace(
        make_config(tmp_path), integrations=SIMULATOR, mqtt_api=MqttApiConfig(**mqtt_api)
    )


@dataclasses.dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    qos: int
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


class Inbox:
    """Every message a subscribed client receives, in order, for the test to await."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.queue: asyncio.Queue[Received] = asyncio.Queue()
        self.seen: list[Received] = []
        self.unclaimed: list[Received] = []

    async def pump(self) -> None:
        async for message in self.client.messages:
            self.queue.put_nowait(
                Received(str(message.topic), bytes(message.payload), message.qos, message.retain)  # type: ignore[arg-type]
            )

    async def next(self, match: Callable[[Received], bool]) -> Received:
        """The oldest message not yet returned that matches (every message is also kept in `seen`)."""
        for index, message in enumerate(self.unclaimed):
            if match(message):
                return self.unclaimed.pop(index)
        async with asyncio.timeout(WAIT_S):
            while True:
                message = await self.queue.get()
                self.seen.append(message)
                if match(message):
                    return message
                self.unclaimed.append(message)

    async def response(self, command: str, command_id: str | None) -> dict[str, Any]:
        """The next response to `command` with this command id."""
        topic = f"{PREFIX}command/{command}/response"
        message = await self.next(lambda m: m.topic == topic and m.json()["command_id"] == command_id)
        assert message.qos == 1
        return message.json()

    async def request(self, command: str, body: dict[str, Any] | bytes) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        await self.client.publish(f"{PREFIX}command/{command}/request", payload, qos=1)

    async def call(self, command: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send a request and return its response."""
        await self.request(command, body)
        return await self.response(command, body["command_id"])


@contextlib.asynccontextmanager
async def inbox(running: RunningHub, *filters: str, transport: str = "websockets") -> AsyncIterator[Inbox]:
    """An admin client subscribed to `filters` (default: the hub's whole tree) with an Inbox."""
    async with running.client(transport, user="admin") as client:
        for topic_filter in filters or (PREFIX + "#",):
            await client.subscribe(topic_filter, qos=1)
        box = Inbox(client)
        pump = asyncio.create_task(box.pump())
        try:
            yield box
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await pump
