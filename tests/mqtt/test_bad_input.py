"""Misbehaving MQTT clients are disconnected, counted and logged; well-behaved ones never notice.

Every test runs a "witness", a normal client connected before the bad one arrives, and
checks afterwards that the same connection still publishes and receives.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiomqtt
import pytest

from hub.mqtt.connection import ClientConnection
from tests.conftest import TRANSPORTS, RunningHub
from tests.mqtt.rawclient import (
    CONNACK,
    RawClient,
    WsRawClient,
    broker_counters,
    connect_packet,
    open_raw,
    publish_packet,
    wait_until,
)

MAX_PACKET = 1024
CONNECT_TIMEOUT = 0.5
WILL = ("witness/will", b"bad client gone")


class Witness:
    """A well-behaved client that stays connected while a bad one misbehaves."""

    def __init__(self, running: RunningHub, transport: str) -> None:
        self._running = running
        self.client_id = f"witness-{transport}"
        self._client = running.client(transport, identifier=self.client_id)
        self._pings = 0
        self.unexpected: list[tuple[str, bytes]] = []

    async def __aenter__(self) -> "Witness":
        await self._client.__aenter__()
        await self._client.subscribe("witness/#", qos=1)
        self._connection = self._running.hub.broker.broker.sessions[self.client_id][1]
        await self.round_trip()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            await self._client.__aexit__(None, None, None)

    async def round_trip(self) -> None:
        """Publish to itself and receive it."""
        self._pings += 1
        payload = f"ping {self._pings}".encode()
        await self._client.publish("witness/ping", payload, qos=1)
        await self.receive("witness/ping", payload)

    async def receive(self, topic: str, payload: bytes) -> None:
        """Wait for one message; anything else that arrives first is recorded as unexpected."""
        async with asyncio.timeout(5):
            async for message in self._client.messages:
                got = (message.topic.value, bytes(message.payload))  # type: ignore[arg-type]
                if got == (topic, payload):
                    return
                self.unexpected.append(got)

    async def still_serving(self) -> None:
        """The same connection is open, round trips work, and nothing unexpected was delivered."""
        await self.round_trip()
        handler = self._running.hub.broker.broker.sessions[self.client_id][1]
        assert handler is self._connection
        assert isinstance(handler, ClientConnection)
        assert handler.is_open
        assert self.unexpected == []


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def running(start_hub) -> RunningHub:
    return await start_hub(max_packet_size=MAX_PACKET, connect_timeout=CONNECT_TIMEOUT)


@pytest.fixture
async def witness(running: RunningHub, transport: str) -> AsyncIterator[Witness]:
    async with Witness(running, transport) as witness:
        yield witness


@contextlib.asynccontextmanager
async def bad_client(running: RunningHub, transport: str) -> AsyncIterator[RawClient]:
    client = await open_raw(transport, running.http_port, running.tcp_port)
    async with client:
        yield client


async def closed_by_hub(client: RawClient) -> list[int]:
    """Wait (bounded) until the hub closes the connection; return the packet types it sent first."""
    async with asyncio.timeout(5):
        packets = await client.wait_closed()
    return [packet.kind for packet in packets]


def assert_warned(caplog: pytest.LogCaptureFixture, *fragments: str) -> None:
    messages = [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("hub")
    ]
    assert any(all(f in m for f in fragments) for m in messages), messages


async def counter(running: RunningHub, name: str) -> int:
    return (await broker_counters(running.http_port))[name]  # type: ignore[return-value]


@pytest.mark.parametrize(
    "garbage",
    [b"\xff" * 8, b"\x10\x05hello", b"\x10\x00", b"\x00\x00"],
    ids=["malformed-length", "garbled-connect", "empty-connect", "reserved-type"],
)
async def test_garbage_instead_of_connect(running, transport, witness, caplog, garbage):
    async with bad_client(running, transport) as bad:
        await bad.send(garbage)
        assert await closed_by_hub(bad) == []
    assert await counter(running, "protocol_errors") == 1
    assert_warned(caplog, "refused")
    await witness.still_serving()


async def test_first_packet_not_connect(running, transport, witness, caplog):
    async with bad_client(running, transport) as bad:
        await bad.send(publish_packet("witness/sneaky", b"before CONNECT"))
        assert await closed_by_hub(bad) == []
    assert await counter(running, "protocol_errors") == 1
    assert_warned(caplog, "not CONNECT")
    await witness.still_serving()  # the PUBLISH was not routed


async def test_oversized_publish_disconnects_and_sends_the_will(running, transport, witness, caplog):
    async with bad_client(running, transport) as bad:
        assert await bad.connect("bad", will=WILL) == 0
        await bad.send(publish_packet("witness/big", bytes(2 * MAX_PACKET)))
        assert await closed_by_hub(bad) == []
    await witness.receive(*WILL)  # an abnormal end: the will goes out, the big message does not
    assert await counter(running, "oversized_packets") == 1
    assert_warned(caplog, "bad", "exceeds the 1024 byte limit")
    await witness.still_serving()


async def test_oversized_remaining_length_is_refused_before_the_body_arrives(running, transport, witness):
    """A header announcing 256 MiB is refused at once: the hub does not wait for (or buffer) the body."""
    async with bad_client(running, transport) as bad:
        assert await bad.connect("bad") == 0
        await bad.send(b"\x30\xff\xff\xff\x7f")
        assert await closed_by_hub(bad) == []
    assert await counter(running, "oversized_packets") == 1
    await witness.still_serving()


async def test_oversized_connect(running, transport, witness, caplog):
    async with bad_client(running, transport) as bad:
        await bad.send(connect_packet("bad", username="admin", password="x" * (2 * MAX_PACKET)))
        assert await closed_by_hub(bad) == []  # no CONNACK
    assert await counter(running, "oversized_packets") == 1
    assert_warned(caplog, "exceeds the 1024 byte limit")
    await witness.still_serving()


@pytest.mark.parametrize("partial", [b"", connect_packet("slow")[:7]], ids=["silent", "half-connect"])
async def test_client_that_never_completes_connect_is_dropped(running, transport, witness, caplog, partial):
    async with bad_client(running, transport) as bad:
        if partial:
            await bad.send(partial)
        assert await closed_by_hub(bad) == []
    assert await counter(running, "connect_timeouts") == 1
    assert_warned(caplog, "no CONNECT within 0.5s")
    await witness.still_serving()


async def test_refused_credentials_get_connack_then_close(running, transport, witness, caplog):
    """MQTT-3.2.2-5: after a CONNACK with a non-zero return code the server closes the connection."""
    async with bad_client(running, transport) as bad:
        await bad.send(connect_packet("intruder", username="admin", password="wrong"))
        connack = await bad.expect(CONNACK)
        assert connack.body[1] == 4  # bad user name or password
        assert await closed_by_hub(bad) == []
    assert await counter(running, "auth_failures") == 1
    assert_warned(caplog, "intruder", "refused")
    await witness.still_serving()


@pytest.mark.parametrize("transport", ["websockets"])
async def test_websocket_without_mqtt_subprotocol(running, transport, witness, caplog):
    bad = await WsRawClient.open(f"http://127.0.0.1:{running.http_port}/mqtt", protocols=())
    async with bad:
        assert await closed_by_hub(bad) == []
        assert bad.close_code == 1002  # protocol error
    assert_warned(caplog, "mqtt subprotocol")
    await witness.still_serving()


@pytest.mark.parametrize("transport", ["websockets"])
async def test_websocket_text_frame(running, transport, witness, caplog):
    """MQTT over WebSocket is binary only (MQTT 3.1.1 section 6.0): a text frame ends the connection."""
    bad = await WsRawClient.open(f"http://127.0.0.1:{running.http_port}/mqtt")
    async with bad:
        assert await bad.connect("bad", will=WILL) == 0
        await bad.send_text("hello")
        assert await closed_by_hub(bad) == []
    await witness.receive(*WILL)
    assert await counter(running, "protocol_errors") == 1
    assert_warned(caplog, "bad", "text")
    await witness.still_serving()


@pytest.mark.parametrize("transport", ["websockets"])
async def test_websocket_frame_over_the_size_limit(running, transport, witness, caplog):
    bad = await WsRawClient.open(f"http://127.0.0.1:{running.http_port}/mqtt")
    async with bad:
        assert await bad.connect("bad", will=WILL) == 0
        await bad.send(publish_packet("witness/huge", bytes(256 * 1024)))
        assert await closed_by_hub(bad) == []
        assert bad.close_code == 1009  # message too big
    await witness.receive(*WILL)
    assert await counter(running, "oversized_packets") == 1
    assert_warned(caplog, "bad")
    await witness.still_serving()


async def test_client_vanishing_without_disconnect_sends_its_will(running, transport, witness):
    """A connection dropped without DISCONNECT ends the session: the will goes out, the session is freed."""
    bad = await open_raw(transport, running.http_port, running.tcp_port)
    async with bad:
        assert await bad.connect("vanishing", will=WILL) == 0
        await bad.abort()  # no DISCONNECT, no WebSocket close frame
    await witness.receive(*WILL)
    await wait_until(lambda: "vanishing" not in running.hub.broker.broker.sessions)
    await witness.still_serving()


async def test_two_hundred_clients_connect_at_once(start_hub):
    """Every client gets CONNACK and its own message back; none is refused or starved."""
    running = await start_hub()
    count = 200

    async def one(index: int, stack: contextlib.AsyncExitStack) -> aiomqtt.Client:
        client = running.client(TRANSPORTS[index % 2], identifier=f"many-{index}")
        await stack.enter_async_context(client)
        return client

    async with contextlib.AsyncExitStack() as stack, asyncio.timeout(60):
        clients = await asyncio.gather(*(one(i, stack) for i in range(count)))
        assert running.hub.broker.broker.connected_clients == count

        async def round_trip(index: int, client: aiomqtt.Client) -> None:
            await client.subscribe(f"many/{index}", qos=1)
            await client.publish(f"many/{index}", str(index).encode(), qos=1)
            async for message in client.messages:
                assert message.topic.value == f"many/{index}"
                assert message.payload == str(index).encode()
                return

        await asyncio.gather(*(round_trip(i, c) for i, c in enumerate(clients)))
    stats = running.hub.broker.broker.stats
    assert stats.auth_failures == stats.protocol_errors == stats.connect_timeouts == 0
