"""One client's MQTT connection: reading packets, and a bounded queue of what to send it.

This replaces amqtt's per-connection machinery (`ProtocolHandler`), which creates a task per
received packet and per delivered message, waits for each QoS 1 acknowledgement in its own
task, and never slows down or sheds load for a client that stops reading. Here packets are
handled inline in one reader task, and one writer task drains a queue whose size is bounded:
QoS 0 beyond the bound is dropped (and counted), a QoS 1 backlog beyond its bound
disconnects the client.
"""

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from amqtt.errors import AMQTTError, MQTTError, NoDataError
from amqtt.mqtt.disconnect import DisconnectPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.mqtt.subscribe import SubscribePacket
from amqtt.mqtt.unsubscribe import UnsubscribePacket

from hub.mqtt.outbox import outbox_of
from hub.mqtt.streams import BufferReader, PacketReader, PacketWriter
from hub.mqtt.topics import topic_name_problem
from hub.mqtt.wire import (
    PINGRESP_BYTES,
    PacketTooLarge,
    PacketType,
    ProtocolViolation,
    decode_packet_id,
    decode_publish,
    encode_ack,
    encode_remaining_length,
)

if TYPE_CHECKING:
    from hub.mqtt.engine import HubBroker

_LOGGER = logging.getLogger(__name__)
_FRAME_BYTES = 65536
_REFUSALS_LOGGED = 20
_FLUSH_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class ConnectionLimits:
    """Per-connection bounds; see `MqttConfig` for what each one means to a user."""

    max_packet_size: int = 262144
    connect_timeout: float = 10.0
    queue_limit: int = 1000
    queue_bytes_limit: int = 4 * 1024 * 1024
    qos1_backlog_limit: int = 1000
    keepalive_factor: float = 1.5


def full_packet(first: int, body: bytes) -> bytes:
    """Re-frame a packet so amqtt's parsers can read it."""
    return bytes((first,)) + encode_remaining_length(len(body)) + body


class ClientConnection(BrokerProtocolHandler):
    """The broker side of one network connection, attached to an amqtt `Session`."""

    def bind(self, broker: "HubBroker", limits: ConnectionLimits) -> None:
        """Attach to the broker that routes this client's messages."""
        self._broker = broker
        self._limits = limits
        self._out: deque[bytes] = deque()
        self._queued_bytes = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._writer_task: asyncio.Task[None] | None = None
        self._closed: asyncio.Future[DisconnectPacket | None] = asyncio.get_running_loop().create_future()
        self._qos2_in: set[int] = set()
        self._refusals_logged = 0
        self.is_open = False
        self.taken_over = False
        self.close_reason: str | None = None

    @property
    def queue_depth(self) -> int:
        """Packets waiting to be written to the client."""
        return len(self._out)

    # -- life cycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Start reading and writing, then resend what the session still owes the client."""
        self.is_open = True
        self._reader_task = asyncio.create_task(self._reader_loop(), name=f"mqtt-read-{self._client_id}")
        self._writer_task = asyncio.create_task(self._writer_loop(), name=f"mqtt-write-{self._client_id}")
        outbox = outbox_of(self.session)  # type: ignore[arg-type]
        for message in outbox.messages.values():
            self._push(message.encode())

    async def wait_disconnect(self) -> DisconnectPacket | None:
        """Wait until the connection ends; a DisconnectPacket means the client said goodbye."""
        return await self._closed

    async def stop(self) -> None:
        """Flush what is queued (briefly), then close; safe to call more than once and from any task."""
        if self.is_open and self._writer_task is not None and not self._writer_task.done():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_FLUSH_TIMEOUT_S):
                    await self._idle.wait()
        self.is_open = False
        current = asyncio.current_task()
        for task in (self._reader_task, self._writer_task):
            if task is not None and task is not current and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._finish(None)
        if self.writer is not None:
            with contextlib.suppress(Exception):
                await self.writer.close()

    async def take_over(self) -> None:
        """Close this connection because the same client id connected again."""
        self.taken_over = True
        self.close_reason = "taken over by a new connection with the same client id"
        await self.stop()

    def abort(self, reason: str) -> None:
        """End the connection from synchronous code (the reader's exit sends the will)."""
        if self.close_reason is None:
            self.close_reason = reason
            _LOGGER.warning("MQTT client %s disconnected: %s", self._client_id, reason)
        self.is_open = False
        if self._reader_task is not None and not self._reader_task.done():
            self._reader_task.cancel()
        else:
            self._finish(None)

    def _finish(self, result: DisconnectPacket | None) -> None:
        if not self._closed.done():
            self._closed.set_result(result)

    @property
    def _client_id(self) -> str | None:
        return self.session.client_id if self.session else None

    # -- reading -----------------------------------------------------------------------

    async def _reader_loop(self) -> None:
        reader: PacketReader = self.reader  # type: ignore[assignment]
        stats = self._broker.stats
        keep_alive = self.session.keep_alive if self.session else 0
        timeout = keep_alive * self._limits.keepalive_factor if keep_alive > 0 else None
        result: DisconnectPacket | None = None
        reader.idle_timeout = timeout
        try:
            while True:
                packet = await reader.read_packet(self._limits.max_packet_size)
                if packet is None:
                    break
                first, body = packet
                kind = first >> 4
                if kind == PacketType.PUBLISH:
                    self._on_publish(first, body)
                elif kind == PacketType.PUBACK:
                    outbox_of(self.session).acknowledge(decode_packet_id(body))  # type: ignore[arg-type]
                elif kind == PacketType.PINGREQ:
                    self._push(PINGRESP_BYTES)
                elif kind == PacketType.SUBSCRIBE:
                    subscribe = await SubscribePacket.from_stream(BufferReader(full_packet(first, body)))
                    await self._broker.handle_subscribe(self, subscribe)
                elif kind == PacketType.UNSUBSCRIBE:
                    unsubscribe = await UnsubscribePacket.from_stream(BufferReader(full_packet(first, body)))
                    await self._broker.handle_unsubscribe(self, unsubscribe)
                elif kind == PacketType.PUBREL:
                    packet_id = decode_packet_id(body)
                    self._qos2_in.discard(packet_id)
                    self._push(encode_ack(PacketType.PUBCOMP, packet_id))
                elif kind == PacketType.DISCONNECT:
                    result = DisconnectPacket()
                    break
                else:
                    raise ProtocolViolation(f"unexpected packet type {kind} from a client")
        except TimeoutError:
            stats.keepalive_timeouts += 1
            self.abort(f"no packet within {timeout:g} s (keep-alive {keep_alive} s)")
        except PacketTooLarge as err:
            stats.oversized_packets += 1
            self.abort(str(err))
        except (ProtocolViolation, MQTTError, AMQTTError, NoDataError) as err:
            stats.protocol_errors += 1
            self.abort(f"protocol error: {err}")
        except asyncio.CancelledError:
            pass
        except (ConnectionError, OSError):
            self.close_reason = self.close_reason or "connection lost"
        finally:
            self.is_open = False
            self._finish(result)

    def _on_publish(self, first: int, body: bytes) -> None:
        message = decode_publish(first, body)
        problem = topic_name_problem(message.topic)
        if problem is not None:
            raise ProtocolViolation(f"PUBLISH to {message.topic!r}: {problem}")
        broker = self._broker
        broker.stats.messages_in += 1
        if message.qos == 2:
            if message.packet_id in self._qos2_in:  # a resent QoS 2 PUBLISH: acknowledge, do not route twice
                self._push(encode_ack(PacketType.PUBREC, message.packet_id))  # type: ignore[arg-type]
                return
            self._qos2_in.add(message.packet_id)  # type: ignore[arg-type]
        if broker.may_publish(self.session, message.topic):  # type: ignore[arg-type]
            broker.route(self._client_id, message.topic, message.payload, message.qos, message.retain)
        else:
            broker.stats.publish_refused += 1
            if self._refusals_logged < _REFUSALS_LOGGED:
                self._refusals_logged += 1
                _LOGGER.warning("MQTT client %s may not publish to %s", self._client_id, message.topic)
        if message.qos == 1:
            self._push(encode_ack(PacketType.PUBACK, message.packet_id))  # type: ignore[arg-type]
        elif message.qos == 2:
            self._push(encode_ack(PacketType.PUBREC, message.packet_id))  # type: ignore[arg-type]

    # -- writing -----------------------------------------------------------------------

    def send_qos0(self, packet: bytes) -> None:
        """Queue an encoded QoS 0 PUBLISH, or drop it when the client is not keeping up."""
        if len(self._out) >= self._limits.queue_limit or self._queued_bytes >= self._limits.queue_bytes_limit:
            self._broker.stats.qos0_dropped += 1
            return
        self._push(packet)

    def send_qos1(self, topic: bytes, payload: bytes, retain: bool) -> None:
        """Queue a QoS 1 PUBLISH; a backlog over the limit disconnects the client."""
        outbox = outbox_of(self.session)  # type: ignore[arg-type]
        message = outbox.add(topic, payload, retain)
        if len(outbox) > self._limits.qos1_backlog_limit:
            self._broker.stats.backlog_disconnects += 1
            self.abort(f"more than {self._limits.qos1_backlog_limit} unacknowledged QoS 1 messages")
            return
        self._push(message.encode())

    def _push(self, data: bytes) -> None:
        if not self.is_open:
            return
        self._out.append(data)
        self._queued_bytes += len(data)
        if self._queued_bytes > 2 * self._limits.queue_bytes_limit:
            self._broker.stats.backlog_disconnects += 1
            self.abort("not reading: outgoing queue over its byte limit")
            return
        self._idle.clear()
        self._wake.set()

    async def _send_packet(self, packet) -> None:  # type: ignore[no-untyped-def, override]
        """amqtt's control packets (CONNACK, SUBACK, UNSUBACK) go through the same queue."""
        data = packet.to_bytes()
        if self._writer_task is None:  # before start(): CONNACK
            writer: PacketWriter = self.writer  # type: ignore[assignment]
            await writer.send(data)
        else:
            self._push(data)

    async def _writer_loop(self) -> None:
        writer: PacketWriter = self.writer  # type: ignore[assignment]
        out = self._out
        stats = self._broker.stats
        try:
            while True:
                if not out:
                    self._wake.clear()
                    self._idle.set()
                    await self._wake.wait()
                    continue
                batch = [out.popleft()]
                size = len(batch[0])
                while out and size < _FRAME_BYTES:
                    data = out.popleft()
                    batch.append(data)
                    size += len(data)
                self._queued_bytes -= size
                stats.messages_out += len(batch)
                await writer.send(batch[0] if len(batch) == 1 else b"".join(batch))
        except asyncio.CancelledError:
            pass
        except (ConnectionError, OSError, RuntimeError) as err:
            self.abort(f"write failed: {err!r}")
