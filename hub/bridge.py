"""Bridge to an upstream (cloud) broker over TCP, TLS or secure WebSocket, with store-and-forward.

Local messages on the `publish` filters go up (with `prefix` put before the topic); upstream messages
on the `subscribe` filters (subscribed there with the prefix) come down into the embedded broker. A
topic that comes down is never sent back up. Every outgoing QoS 1 message is appended to the spool
(hub.spool) and removed only once the upstream broker acknowledged it, so an unreachable broker or a
restart loses nothing and the order is kept; QoS 0 messages go up only while connected (dropped and
counted otherwise). The upstream connection carries a last will (`status/update` offline, retained)
and reconnects with exponential backoff and jitter.
"""

import asyncio
import contextlib
import logging
import random
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import aiomqtt

from hub.bus import Bus
from hub.config import BridgeConfig, BridgeTransport
from hub.health import ComponentHealth, HealthStatus
from hub.identity import Identity
from hub.mqtt.broker import EmbeddedBroker
from hub.mqtt.engine import InboundMessage
from hub.mqtt.status import STATUS_UPDATE
from hub.mqtt.topics import matches
from hub.mqtt_api.alerts import site_alert_filter
from hub.spool import Outgoing, Spool, SpooledMessage
from hub.supervisor import Supervisor

_LOGGER = logging.getLogger(__name__)

SPOOL_FILE = "spool.db"
SEND_BATCH = 200  # spooled messages in flight at once
PUBLISH_TIMEOUT = 30.0  # s for the upstream broker to acknowledge a message
CONNECT_TIMEOUT = 10.0  # s for CONNECT and SUBSCRIBE to be answered
QOS0_QUEUE = 1000  # QoS 0 messages waiting for the link; more are dropped
MEMORY_QUEUE = 100_000  # QoS 1 messages waiting to be written to the spool; more are dropped
BACKOFF_JITTER = 0.2


class BridgeState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class BridgeStateChanged:
    """Published on the bus when the upstream link comes up or goes down."""

    state: BridgeState
    error: str | None = None


class _Link:
    """One upstream connection."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.closed = asyncio.Event()


class Bridge:
    """Keeps the upstream link, sends local messages up through the spool, takes commands down."""

    def __init__(
        self,
        config: BridgeConfig,
        broker: EmbeddedBroker,
        bus: Bus,
        identity: Identity,
        supervisor: Supervisor,
        data_dir: Path,
        config_dir: Path,
        will: bytes,
        on_connected: Callable[[], None],
    ) -> None:
        self._config = config
        self._broker = broker
        self._bus = bus
        self._identity = identity
        self._supervisor = supervisor
        self._config_dir = config_dir
        self._will = will
        self._on_connected = on_connected
        self.spool = Spool(data_dir / SPOOL_FILE, config.spool)
        prefix = identity.topic_prefix
        self.publish_filters = config.publish or (prefix + "#",)
        self.subscribe_filters = config.subscribe or (
            prefix + "command/+/request",
            site_alert_filter(identity),
        )
        self.state = BridgeState.DISCONNECTED
        self.last_error: str | None = None
        self._link: _Link | None = None
        self._to_spool: list[Outgoing] = []
        self._pumping = 0  # messages taken from _to_spool and being written to the spool
        self._qos0: deque[Outgoing] = deque()
        self._wake = asyncio.Event()  # something to send, or the link came up
        self._pump_wake = asyncio.Event()
        self._progress = asyncio.Event()  # a batch was spooled or sent
        self._unsubscribe: list[Callable[[], None]] = []
        self.counters = {
            "sent": 0,
            "received": 0,
            "qos0_dropped": 0,
            "memory_dropped": 0,
            "connects": 0,
            "retained_ignored": 0,
        }

    async def start(self) -> None:
        """Open the spool, follow the local topics and start connecting."""
        await self.spool.open()
        self._unsubscribe = [self._broker.subscribe(f, self._on_local) for f in self.publish_filters]
        self._supervisor.spawn("bridge.link", self._run_link)
        self._supervisor.spawn("bridge.spool", self._run_pump)
        self._supervisor.spawn("bridge.send", self._run_sender)

    async def flush(self, limit: float) -> None:
        """Give the link up to `limit` s to send what is waiting (the hub's offline status, on stop)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                while self._link is not None and (self._unspooled or self._qos0 or self.spool.depth):
                    self._progress.clear()
                    await self._progress.wait()

    async def spooled(self) -> None:
        """Return once every QoS 1 message received so far is in the spool (or already sent)."""
        while self._unspooled:
            self._progress.clear()
            await self._progress.wait()

    async def close(self) -> None:
        """Stop following local topics and close the spool (the supervisor has stopped the tasks)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        await self.spool.close()

    @property
    def _unspooled(self) -> int:
        """QoS 1 messages received and not yet in the spool."""
        return len(self._to_spool) + self._pumping

    def remote(self, local_topic: str) -> str:
        return self._config.prefix + local_topic

    # -- local -> upstream ------------------------------------------------------------------

    def _on_local(self, message: InboundMessage) -> None:
        if any(matches(message.topic, f) for f in self.subscribe_filters):
            return  # it came down from upstream (or could have): never echo it back up
        outgoing = Outgoing(message.topic, message.payload, message.retain)
        if message.qos == 0:
            if self._link is None or len(self._qos0) >= QOS0_QUEUE:
                self.counters["qos0_dropped"] += 1
                return
            self._qos0.append(outgoing)
            self._wake.set()
            return
        if len(self._to_spool) >= MEMORY_QUEUE:
            self.counters["memory_dropped"] += 1
            return
        self._to_spool.append(outgoing)
        self._pump_wake.set()

    async def _run_pump(self) -> None:
        """Write queued QoS 1 messages to the spool in batches."""
        while True:
            self._pump_wake.clear()
            if not self._to_spool:
                await self._pump_wake.wait()
                continue
            batch, self._to_spool = self._to_spool, []
            self._pumping = len(batch)
            try:
                await self.spool.append(batch)
            except BaseException:
                self._to_spool[:0] = batch  # kept for the next attempt (the supervisor restarts this task)
                raise
            finally:
                self._pumping = 0
            self._progress.set()
            self._wake.set()

    async def _run_sender(self) -> None:
        """Send QoS 0 messages as they come and the spool oldest first while the link is up."""
        while True:
            self._wake.clear()
            link = self._link
            if link is None:
                await self._wake.wait()
                continue
            sent_any = await self._send_qos0(link)
            batch = await self.spool.peek(SEND_BATCH)
            if batch:
                await self._send_batch(link, batch)
                continue
            if not sent_any:
                await self._wake.wait()

    async def _send_batch(self, link: _Link, batch: list[SpooledMessage]) -> None:
        """Send spooled messages pipelined, in order; remove the acknowledged ones from the spool.

        aiomqtt does not fail a pending publish when the link drops, so the batch is also cut short
        by the link closing; what was not acknowledged stays spooled and goes again on the next link.
        """
        publish = link.client.publish
        sends = [
            asyncio.create_task(
                publish(self.remote(m.topic), m.payload, qos=1, retain=m.retain, timeout=PUBLISH_TIMEOUT)
            )
            for m in batch
        ]
        closed = asyncio.create_task(link.closed.wait())
        try:
            await asyncio.wait(
                [asyncio.gather(*sends, return_exceptions=True), closed], return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            closed.cancel()
            for send in sends:
                send.cancel()
            await asyncio.gather(*sends, closed, return_exceptions=True)
        acked = 0
        for send in sends:
            if send.cancelled() or send.exception() is not None:
                break
            acked += 1
        if acked:
            await self.spool.remove_through(batch[acked - 1].seq)
            self.counters["sent"] += acked
            self._progress.set()
        if acked < len(batch):  # the link failed: wait for the next one, then resend the rest in order
            await link.closed.wait()

    async def _send_qos0(self, link: _Link) -> bool:
        sent = False
        while self._qos0:
            message = self._qos0.popleft()
            try:
                await link.client.publish(
                    self.remote(message.topic), message.payload, qos=0, retain=message.retain
                )
            except aiomqtt.MqttError:
                self.counters["qos0_dropped"] += 1 + len(self._qos0)
                self._qos0.clear()
                break
            self.counters["sent"] += 1
            sent = True
        if sent:
            self._progress.set()
        return sent

    # -- the upstream link ----------------------------------------------------------------------

    async def _run_link(self) -> None:
        """Connect, take commands down, and reconnect with backoff after a failure."""
        config = self._config
        delay = config.backoff_initial
        while True:
            self._set_state(BridgeState.CONNECTING)
            link: _Link | None = None
            try:
                async with self._client() as client:
                    link = self._link = _Link(client)
                    delay = config.backoff_initial
                    for topic_filter in self.subscribe_filters:
                        await client.subscribe(self.remote(topic_filter), qos=1)
                    self.counters["connects"] += 1
                    self.last_error = None
                    self._set_state(BridgeState.CONNECTED)
                    _LOGGER.info("bridge connected to %s:%s", config.host, config.port)
                    self._wake.set()
                    self._on_connected()
                    async for message in client.messages:
                        self._down(message)
            except (aiomqtt.MqttError, OSError) as err:
                if self.last_error is None:
                    _LOGGER.warning("bridge to %s:%s is down: %s", config.host, config.port, err)
                self.last_error = str(err) or type(err).__name__
            finally:
                self._link = None
                if link is not None:
                    link.closed.set()
            self._set_state(BridgeState.DISCONNECTED, self.last_error)
            await asyncio.sleep(delay * random.uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER))
            delay = min(delay * 2, config.backoff_max)

    def _down(self, message: aiomqtt.Message) -> None:
        topic = str(message.topic)
        if not topic.startswith(self._config.prefix):
            return
        if message.retain:  # a retained request would run again at every reconnection
            self.counters["retained_ignored"] += 1
            _LOGGER.warning("bridge: retained message from upstream on %r ignored", topic)
            return
        local = topic[len(self._config.prefix) :]
        payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
        try:
            self._broker.publish(local, payload, qos=min(message.qos, 1))
        except ValueError as err:
            _LOGGER.warning("bridge: message from upstream on %r ignored: %s", topic, err)
            return
        self.counters["received"] += 1

    def _set_state(self, state: BridgeState, error: str | None = None) -> None:
        if state != self.state:
            self.state = state
            self._bus.publish(BridgeStateChanged(state, error))

    def _client(self) -> aiomqtt.Client:
        config = self._config
        will = aiomqtt.Will(
            self.remote(self._identity.topic_prefix + STATUS_UPDATE), self._will, qos=1, retain=True
        )
        extra: dict[str, object] = {}
        if config.transport == BridgeTransport.WSS:
            extra = {"transport": "websockets", "websocket_path": config.websocket_path}
        client = aiomqtt.Client(
            config.host or "",
            config.port,
            identifier=config.client_id or f"bms-hub-{self._identity.iot_device_id}",
            username=config.username,
            password=config.password,
            keepalive=config.keepalive,
            will=will,
            clean_session=False,
            tls_context=self._tls_context(),
            max_inflight_messages=SEND_BATCH,
            timeout=CONNECT_TIMEOUT,
            **extra,  # type: ignore[arg-type]
        )
        client.pending_calls_threshold = SEND_BATCH + QOS0_QUEUE  # a full batch in flight is normal here
        return client

    def _tls_context(self) -> ssl.SSLContext | None:
        config = self._config
        if config.transport == BridgeTransport.TCP:
            return None
        resolve = self._config_dir.joinpath
        context = ssl.create_default_context(cafile=resolve(config.ca_file) if config.ca_file else None)
        if config.cert_file is not None:
            key = resolve(config.key_file) if config.key_file else None
            context.load_cert_chain(resolve(config.cert_file), key)
        return context

    def health(self) -> ComponentHealth:
        """Link state and the spool: depth, bytes, oldest age, dropped; degraded once messages were lost."""
        age = self.spool.oldest_age()
        detail: dict[str, object] = {
            "state": str(self.state),
            "upstream": f"{self._config.host}:{self._config.port}",
            "last_error": self.last_error,
            "spool_depth": self.spool.depth,
            "spool_bytes": self.spool.bytes,
            "spool_oldest_age_s": round(age, 1) if age is not None else None,
            "spool_dropped": self.spool.dropped,
            "waiting_in_memory": self._unspooled,
            **self.counters,
        }
        # An unreachable upstream is the network's problem, shown in the detail; losing messages is ours.
        lost = self.spool.dropped or self.counters["memory_dropped"]
        return ComponentHealth(HealthStatus.DEGRADED if lost else HealthStatus.OK, detail)
