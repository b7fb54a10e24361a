"""Worker processes for bench/broker.py: the publishers or the subscribers of one scenario.

A worker connects its clients (`mqtt_client.MqttClient`), says "ready" on its pipe, then
runs each `Phase` the orchestrator sends and answers with a `PubResult` / `SubResult`:
- sustained (QoS 0): each publisher sends as fast as its subscribers keep up: at most
  `e2e_window` messages sent and not yet received by its slowest subscriber (the
  subscribers' counts are shared memory), so no broker has to queue or drop anything.
- flood: as fast as the broker accepts. QoS 0 is open loop: the only limit is the
  socket's write buffer, so a broker that reads faster than it delivers must drop or
  queue. QoS 1 keeps at most `window` PUBLISH packets unacknowledged by the broker.
  Floods write `batch` PUBLISH packets per WebSocket frame (legal MQTT over WebSocket); a
  QoS 0 frame is encoded and masked once and sent again and again.
- paced: the publishers send `rate` messages/s in total, one per frame, each payload
  starting with its send time (CLOCK_MONOTONIC ns, the same clock in every process);
  subscribers record receive time minus send time.
After a phase the orchestrator tells the subscribers how many deliveries to expect; they
wait for them (or until nothing has arrived for a while) so loss can be counted.
"""

import asyncio
import contextlib
import time
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass, field
from enum import StrEnum
from multiprocessing.connection import Connection

from mqtt_client import (
    STAMP,
    ClientSpec,
    Endpoint,
    MqttClient,
    encode_publish,
    keep_alive,
    open_client,
    subscribe,
)

# Deliveries per subscriber so far, in shared memory (multiprocessing.Array("q", n, lock=False)).
Delivered = MutableSequence[int]

_ACK_WAIT_S = 10.0
_DRAIN_IDLE_S = 0.5
_POLL_S = 0.0002  # the event loop rounds it up to 1 ms


class Role(StrEnum):
    PUB = "pub"
    SUB = "sub"


class PhaseKind(StrEnum):
    SUSTAINED = "sustained"  # QoS 0 as fast as the subscribers keep up
    FLOOD = "flood"  # as fast as the broker accepts
    PACED = "paced"  # at a fixed rate with a timestamp in each payload


@dataclass(frozen=True)
class WorkerSpec:
    """What one worker process runs."""

    role: Role
    endpoint: Endpoint
    clients: tuple[ClientSpec, ...]
    payload_size: int = 64
    batch: int = 50  # PUBLISH packets per WebSocket frame in a flood
    window: int = 100  # unacknowledged QoS 1 PUBLISH packets per publisher
    e2e_window: int = 500  # sustained: messages a publisher's slowest subscriber has not received yet
    watch: tuple[tuple[int, ...], ...] = ()  # per publisher: indexes of its subscribers in `Delivered`


@dataclass(frozen=True)
class Phase:
    """One measurement, identical for every worker of a scenario; times are CLOCK_MONOTONIC ns."""

    kind: PhaseKind
    qos: int
    start_ns: int
    duration_s: float
    warmup_s: float = 0.0
    rate: float = 0.0  # paced: messages/s over all publishers of the worker
    drain_s: float = 20.0  # how long subscribers wait after the end for messages still on their way

    @property
    def window_ns(self) -> tuple[int, int]:
        """The counted part of the phase: after the warm-up, until the end."""
        return self.start_ns + int(self.warmup_s * 1e9), self.start_ns + int(self.duration_s * 1e9)


@dataclass(frozen=True)
class PubResult:
    """What publishers sent; `in_window` counts only the measured window."""

    sent: int
    in_window: int
    window_s: float
    acked: int
    disconnected: int


@dataclass(frozen=True)
class SubResult:
    """What subscribers received, and the latencies (ns) of timestamped messages."""

    received: int
    in_window: int
    window_s: float
    disconnected: int
    frames: int  # WebSocket frames received (0 over TCP): packets/frame shows the broker's batching
    latencies_ns: list[int] = field(default_factory=list)


# -- publishing ---------------------------------------------------------------------------


class _Counter:
    """Messages sent, and the count when the measured window opened and closed."""

    def __init__(self) -> None:
        self.sent = 0
        self.at_open: int | None = None
        self.at_close: int | None = None


def _payload(size: int) -> bytes:
    return b"x" * max(size, STAMP.size)


async def _flood_qos0(
    mqtt: MqttClient, spec: WorkerSpec, topic: bytes, phase: Phase, count: _Counter, lag: Callable[[], int]
) -> None:
    """QoS 0 as fast as the socket takes it; `sustained` also waits while the subscribers lag behind."""
    packet = encode_publish(topic, _payload(spec.payload_size), 0)
    frame = mqtt.frame(packet * spec.batch)
    opens, closes = phase.window_ns
    clock = time.monotonic_ns
    closed_loop = phase.kind == PhaseKind.SUSTAINED
    limit = spec.e2e_window - spec.batch
    while not mqtt.is_closed:
        now = clock()
        if now >= closes:
            break
        if count.at_open is None and now >= opens:
            count.at_open = count.sent
        if closed_loop and count.sent - lag() > limit:
            await asyncio.sleep(_POLL_S)
            continue
        mqtt.send_frame(frame)
        count.sent += spec.batch
        await mqtt.writable()
        await asyncio.sleep(0)
    count.at_close = count.sent


async def _flood_qos1(
    mqtt: MqttClient, spec: WorkerSpec, topic: bytes, phase: Phase, count: _Counter, lag: Callable[[], int]
) -> None:
    """QoS 1 with at most `window` PUBLISH packets unacknowledged by the broker."""
    payload = _payload(spec.payload_size)
    window, batch = spec.window, min(spec.batch, spec.window)
    room, all_acked = asyncio.Event(), asyncio.Event()
    base_acked = mqtt.acked

    def on_ack() -> None:
        outstanding = count.sent - (mqtt.acked - base_acked)
        if outstanding <= window - batch:
            room.set()
        if outstanding <= 0:
            all_acked.set()

    mqtt.on_ack = on_ack
    packet_id = 0
    opens, closes = phase.window_ns
    clock = time.monotonic_ns
    try:
        while not mqtt.is_closed:
            now = clock()
            if now >= closes:
                break
            if count.at_open is None and now >= opens:
                count.at_open = count.sent
            if count.sent - (mqtt.acked - base_acked) > window - batch:
                room.clear()
                async with asyncio.timeout(_ACK_WAIT_S):
                    await room.wait()
                continue
            packets = []
            for _ in range(batch):
                packet_id = packet_id % 0xFFFF + 1
                packets.append(encode_publish(topic, payload, 1, packet_id))
            mqtt.send(b"".join(packets))
            count.sent += batch
            await mqtt.writable()
            await asyncio.sleep(0)
        count.at_close = count.sent
        if count.sent > mqtt.acked - base_acked and not mqtt.is_closed:
            all_acked.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_ACK_WAIT_S):
                    await all_acked.wait()
    finally:
        mqtt.on_ack = None


async def _paced(clients: list[MqttClient], topics: list[bytes], phase: Phase, count: _Counter) -> None:
    """Publish `phase.rate` messages/s round-robin over the clients, one message per frame."""
    padding = b"x" * 56
    interval_ns = int(1e9 / phase.rate)
    packet_id = 0
    opens, closes = phase.window_ns
    due = phase.start_ns
    index = 0
    while True:
        now = time.monotonic_ns()
        if now >= closes:
            break
        while due <= now:
            mqtt, topic = clients[index % len(clients)], topics[index % len(clients)]
            packet_id = packet_id % 0xFFFF + 1
            stamp = STAMP.pack(time.monotonic_ns())
            mqtt.send(encode_publish(topic, stamp + padding, phase.qos, packet_id))
            count.sent += 1
            if count.at_open is None and due >= opens:
                count.at_open = count.sent - 1
            index += 1
            due += interval_ns
        await asyncio.sleep(max(0.0, (due - time.monotonic_ns()) / 1e9))
    count.at_close = count.sent
    await asyncio.sleep(0.2)  # let the last PUBACKs arrive


def delivered_since(delivered: Delivered, indexes: tuple[int, ...]) -> Callable[[], int]:
    """Messages received by the slowest of `indexes` since now."""
    base = [delivered[i] for i in indexes]
    return lambda: min(delivered[i] - b for i, b in zip(indexes, base, strict=True))


async def run_publishers(
    clients: list[MqttClient], spec: WorkerSpec, phase: Phase, delivered: Delivered
) -> PubResult:
    """Run one phase on every publisher of the worker."""
    await _sleep_until(phase.start_ns)
    acked = sum(c.acked for c in clients)
    topics = [c.topic.encode() for c in spec.clients]
    counters = [_Counter() for _ in clients]
    if phase.kind == PhaseKind.PACED:
        counters = [_Counter()]
        await _paced(clients, topics, phase, counters[0])
    else:
        flood = _flood_qos0 if phase.qos == 0 else _flood_qos1
        lags = [delivered_since(delivered, indexes) for indexes in spec.watch]
        runs = zip(clients, topics, counters, lags, strict=True)
        await asyncio.gather(
            *(flood(mqtt, spec, topic, phase, count, lag) for mqtt, topic, count, lag in runs)
        )
    opens, closes = phase.window_ns
    return PubResult(
        sent=sum(c.sent for c in counters),
        in_window=sum((c.at_close or 0) - (c.at_open or 0) for c in counters),
        window_s=(closes - opens) / 1e9,
        acked=sum(c.acked for c in clients) - acked,
        disconnected=sum(c.is_closed for c in clients),
    )


# -- subscribing --------------------------------------------------------------------------


async def run_subscribers(clients: list[MqttClient], phase: Phase, pipe: Connection) -> SubResult:
    """Count deliveries during one phase, then until the orchestrator's expected total arrives."""
    stamps: list[int] = []
    base = sum(c.received for c in clients)
    frames = sum(c.frames for c in clients)
    for mqtt in clients:
        mqtt.stamps = stamps if phase.kind == PhaseKind.PACED else None
    loop = asyncio.get_running_loop()
    marks: dict[str, int] = {}
    opens, closes = phase.window_ns
    for name, at in (("open", opens), ("close", closes)):
        loop.call_at(loop.time() + (at - time.monotonic_ns()) / 1e9, _mark, marks, name, clients)
    await _sleep_until(phase.start_ns)
    expected: int = await asyncio.to_thread(pipe.recv)
    await _drain(clients, base + expected, phase.drain_s)
    for mqtt in clients:
        mqtt.stamps = None
    return SubResult(
        received=sum(c.received for c in clients) - base,
        in_window=marks.get("close", 0) - marks.get("open", 0),
        window_s=(closes - opens) / 1e9,
        disconnected=sum(c.is_closed for c in clients),
        frames=sum(c.frames for c in clients) - frames,
        latencies_ns=stamps,
    )


def _mark(marks: dict[str, int], name: str, clients: list[MqttClient]) -> None:
    marks[name] = sum(c.received for c in clients)


async def _drain(clients: list[MqttClient], target: int, limit_s: float) -> None:
    """Wait until `target` deliveries, or until nothing arrived for a while, or `limit_s`."""
    last, idle_since, deadline = -1, time.monotonic(), time.monotonic() + limit_s
    while time.monotonic() < deadline:
        total = sum(c.received for c in clients)
        if total >= target:
            return
        if total != last:
            last, idle_since = total, time.monotonic()
        elif time.monotonic() - idle_since > _DRAIN_IDLE_S:
            return
        await asyncio.sleep(0.02)


async def _sleep_until(at_ns: int) -> None:
    await asyncio.sleep(max(0.0, (at_ns - time.monotonic_ns()) / 1e9))


# -- worker processes ---------------------------------------------------------------------


def worker_main(spec: WorkerSpec, pipe: Connection, delivered: Delivered) -> None:
    """Entry point of a lean worker process."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_worker(spec, pipe, delivered))


async def _worker(spec: WorkerSpec, pipe: Connection, delivered: Delivered) -> None:
    try:
        clients = list(await asyncio.gather(*(open_client(spec.endpoint, c) for c in spec.clients)))
        if spec.role == Role.SUB:
            for index, mqtt in enumerate(clients):
                mqtt.share_count(delivered, index)
            await asyncio.gather(*(subscribe(m, c.topic) for m, c in zip(clients, spec.clients, strict=True)))
    except Exception as err:
        pipe.send(("error", f"{type(err).__name__}: {err}"))
        return
    pinger = asyncio.create_task(keep_alive(clients))
    pipe.send(("ready", None))
    try:
        while True:
            phase = await asyncio.to_thread(pipe.recv)
            if phase is None:
                break
            try:
                if spec.role == Role.PUB:
                    result: PubResult | SubResult = await run_publishers(clients, spec, phase, delivered)
                else:
                    result = await run_subscribers(clients, phase, pipe)
            except Exception as err:
                pipe.send(("error", f"{spec.role} phase failed: {type(err).__name__}: {err}"))
                break
            pipe.send(("result", result))
    finally:
        pinger.cancel()
        for mqtt in clients:
            mqtt.close()
        await asyncio.sleep(0.05)
