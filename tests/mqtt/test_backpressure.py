"""A subscriber that stops reading must cost the hub bounded memory and must not slow anyone else.

The hub publishes in-process in batches smaller than the queue limit and waits for a healthy
subscriber to receive each batch, so the healthy one can be expected to get every message
while a stalled one, whose socket is never read, fills its queue and loses messages.
"""

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator

import aiomqtt
import pytest

from hub.mqtt import broker as broker_module
from hub.mqtt.connection import ClientConnection
from tests.conftest import TRANSPORTS, RunningHub
from tests.mqtt.rawclient import PINGREQ_BYTES, PINGRESP, PUBLISH, broker_counters, open_raw, wait_until

QUEUE_LIMIT = 50
BACKLOG_LIMIT = 20
BATCH = 10  # well below QUEUE_LIMIT: the healthy subscriber never has more than this queued
# Far more than loopback socket buffers can absorb for a client with a 4 KiB receive buffer.
MAX_MESSAGES = 20_000
FILLER = bytes(1020)


class Collector:
    """Records the sequence numbers an aiomqtt subscriber receives, in a task the test owns."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self._client = client
        self.sequence: list[int] = []
        self._arrived = asyncio.Event()

    async def run(self) -> None:
        async for message in self._client.messages:
            self.sequence.append(int.from_bytes(message.payload[:4], "big"))  # type: ignore[index]
            self._arrived.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.sequence) < count:
                self._arrived.clear()
                await self._arrived.wait()


@contextlib.asynccontextmanager
async def collecting(client: aiomqtt.Client) -> AsyncIterator[Collector]:
    collector = Collector(client)
    task = asyncio.create_task(collector.run())
    try:
        yield collector
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def connection(running: RunningHub, client_id: str) -> ClientConnection:
    handler = running.hub.broker.broker.sessions[client_id][1]
    assert isinstance(handler, ClientConnection)
    return handler


def message(number: int) -> bytes:
    return number.to_bytes(4, "big") + FILLER


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_qos0_for_a_stalled_subscriber_is_dropped_and_its_queue_stays_bounded(start_hub, transport):
    running = await start_hub(client_queue_limit=QUEUE_LIMIT, qos1_backlog_limit=BACKLOG_LIMIT)
    stats = running.hub.broker.broker.stats
    slow = await open_raw(transport, running.http_port, running.tcp_port, rcvbuf=4096)
    async with slow, running.client("websockets", identifier="healthy") as healthy:
        assert await slow.connect("slow") == 0
        assert await slow.subscribe([("flood/#", 0)]) == [0]
        await healthy.subscribe("flood/#", qos=0)
        stalled = connection(running, "slow")
        dropped_before = (await broker_counters(running.http_port))["qos0_dropped"]
        sent, deepest = 0, 0
        async with collecting(healthy) as collector:
            # Publish until the stalled client's queue has overflowed for a while.
            while stats.qos0_dropped < 10 * BATCH and sent < MAX_MESSAGES:
                for _ in range(BATCH):
                    running.hub.broker.publish(f"flood/{sent % 7}", message(sent))
                    sent += 1
                assert stalled.queue_depth <= QUEUE_LIMIT
                deepest = max(deepest, stalled.queue_depth)
                await collector.wait_for(sent)
            assert stats.qos0_dropped >= 10 * BATCH, f"no drops after {sent} messages"
            assert deepest == QUEUE_LIMIT  # the bound was reached, not merely never approached
            assert collector.sequence == list(range(sent))  # every message, in order, no duplicates

        counters = await broker_counters(running.http_port)
        assert counters["qos0_dropped"] - dropped_before >= 10 * BATCH  # type: ignore[operator]
        # Dropping QoS 0 does not disconnect the client: once it reads again it is served.
        assert stalled.is_open
        await slow.send(PINGREQ_BYTES)
        received = 0
        async with asyncio.timeout(10):
            while (packet := await slow.next_packet()).kind != PINGRESP:
                assert packet.kind == PUBLISH
                received += 1
        assert received < sent


async def test_queued_bytes_stay_under_the_byte_limit(start_hub, monkeypatch):
    """With a generous count limit, the byte limit is what bounds a stalled client's queue."""
    byte_limit = 16 * 1024
    real_limits = broker_module.limits_from_config
    monkeypatch.setattr(
        broker_module,
        "limits_from_config",
        lambda config: dataclasses.replace(real_limits(config), queue_bytes_limit=byte_limit),
    )
    running = await start_hub(client_queue_limit=100_000)
    stats = running.hub.broker.broker.stats
    async with await open_raw("tcp", running.http_port, running.tcp_port, rcvbuf=4096) as slow:
        assert await slow.connect("slow") == 0
        assert await slow.subscribe([("flood/#", 0)]) == [0]
        stalled = connection(running, "slow")
        packet_size = len(message(0)) + len("flood/x") + 5
        most = 0
        for sent in range(MAX_MESSAGES):
            running.hub.broker.publish("flood/x", message(sent))
            # A message is queued while the total is under the limit, so it may end one packet above it.
            assert stalled._queued_bytes < byte_limit + packet_size
            most = max(most, stalled._queued_bytes)
            if sent % BATCH == 0:
                await asyncio.sleep(0)  # let the writer move what the socket accepts
            if stats.qos0_dropped >= 100:
                break
        assert stats.qos0_dropped >= 100
        assert most >= byte_limit
        assert stalled.queue_depth <= byte_limit // len(message(0)) + 1
        assert stalled.is_open


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_qos1_subscriber_that_never_acknowledges_is_disconnected(start_hub, transport, caplog):
    running = await start_hub(client_queue_limit=QUEUE_LIMIT, qos1_backlog_limit=BACKLOG_LIMIT)
    total = 3 * BACKLOG_LIMIT
    lazy = await open_raw(transport, running.http_port, running.tcp_port, rcvbuf=4096)
    async with lazy, running.client("websockets", identifier="healthy") as healthy:
        assert await lazy.connect("lazy") == 0
        assert await lazy.subscribe([("backlog/#", 1)]) == [1]
        await healthy.subscribe("backlog/#", qos=1)
        lazy_connection = connection(running, "lazy")
        async with collecting(healthy) as collector:
            # Batches of 5: the healthy client's unacknowledged backlog stays far below the limit.
            for sent in range(0, total, 5):
                for number in range(sent, sent + 5):
                    running.hub.broker.publish("backlog/x", message(number), qos=1)
                await collector.wait_for(sent + 5)
            assert collector.sequence == list(range(total))

        async with asyncio.timeout(10):
            packets = await lazy.wait_closed()
        assert not lazy_connection.is_open
        # The broker forgets a clean session once its close completes.
        await wait_until(lambda: "lazy" not in running.hub.broker.broker.sessions)
        assert all(p.kind == PUBLISH and p.qos == 1 for p in packets)
        assert len(packets) <= BACKLOG_LIMIT
        assert len({p.packet_id for p in packets}) == len(packets)
        counters = await broker_counters(running.http_port)
        assert counters["backlog_disconnects"] == 1
        assert any(
            r.levelno == logging.WARNING and "lazy" in r.getMessage() and "unacknowledged" in r.getMessage()
            for r in caplog.records
        )


async def test_qos1_flood_to_a_stalled_reader_is_bounded_by_bytes(start_hub, monkeypatch):
    """QoS 1 cannot be dropped: a client whose queue passes twice the byte limit is disconnected."""
    byte_limit = 16 * 1024
    real_limits = broker_module.limits_from_config
    monkeypatch.setattr(
        broker_module,
        "limits_from_config",
        lambda config: dataclasses.replace(real_limits(config), queue_bytes_limit=byte_limit),
    )
    running = await start_hub(qos1_backlog_limit=100_000)
    async with await open_raw("tcp", running.http_port, running.tcp_port, rcvbuf=4096) as slow:
        assert await slow.connect("slow") == 0
        assert await slow.subscribe([("flood/#", 1)]) == [1]
        stalled = connection(running, "slow")
        for sent in range(MAX_MESSAGES):
            running.hub.broker.publish("flood/x", message(sent), qos=1)
            assert stalled._queued_bytes <= 2 * byte_limit + len(message(0)) + 16
            if not stalled.is_open:
                break
            if sent % BATCH == 0:
                await asyncio.sleep(0)
        assert not stalled.is_open
        async with asyncio.timeout(10):
            await slow.wait_closed()
        # Every overload disconnect should be visible in /api/health, like the backlog one.
        counters = await broker_counters(running.http_port)
        assert counters["backlog_disconnects"] == 1
