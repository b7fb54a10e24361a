"""A lean MQTT 3.1.1 client for load generation, over WebSocket or plain TCP.

`MqttClient` is an `asyncio.Protocol`: RFC 6455 framing is written out here, so each TCP
chunk received is de-framed and parsed in one Python loop, with no task or future per frame
or per packet. It parses several packets per frame and packets split across frames, counts
PUBLISH and PUBACK packets, acknowledges every QoS 1 PUBLISH (the PUBACKs of one read go out
in one frame) and, when asked, reads a CLOCK_MONOTONIC timestamp from each payload.
Frames it sends are masked as RFC 6455 requires; `frame()` masks once for data sent many times.
"""

import asyncio
import base64
import os
import socket
import struct
import time
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass
from enum import StrEnum

KEEPALIVE_S = 60
STAMP = struct.Struct(">Q")
_WRITE_HIGH_WATER = 64 * 1024
_KERNEL_SEND_BUFFER = 64 * 1024
_MAX_LATENCY_NS = 60 * 10**9
_REPLY_TIMEOUT_S = 10.0


class Transport(StrEnum):
    WS = "ws"
    TCP = "tcp"


@dataclass(frozen=True)
class Endpoint:
    """Where a broker listens."""

    host: str
    port: int
    transport: Transport
    path: str = "/mqtt"


@dataclass(frozen=True)
class ClientSpec:
    """One MQTT client: credentials and the topic it publishes to or subscribes to."""

    client_id: str
    username: str
    password: str
    topic: str


# -- MQTT encoding ------------------------------------------------------------------------


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def _string(value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return struct.pack(">H", len(data)) + data


def _packet(first: int, body: bytes) -> bytes:
    return bytes((first,)) + _remaining_length(len(body)) + body


def encode_connect(client_id: str, username: str, password: str, keepalive: int = KEEPALIVE_S) -> bytes:
    """CONNECT, MQTT 3.1.1, clean session, with username and password."""
    flags = 0x02 | 0x80 | 0x40
    header = _string("MQTT") + bytes((4, flags)) + struct.pack(">H", keepalive)
    return _packet(0x10, header + _string(client_id) + _string(username) + _string(password))


def encode_subscribe(topic_filter: str, qos: int, packet_id: int = 1) -> bytes:
    """SUBSCRIBE to one filter."""
    return _packet(0x82, struct.pack(">H", packet_id) + _string(topic_filter) + bytes((qos,)))


def encode_publish(topic: bytes, payload: bytes, qos: int, packet_id: int = 0) -> bytes:
    """PUBLISH, not retained."""
    pid = struct.pack(">H", packet_id) if qos else b""
    return _packet(0x30 | qos << 1, _string(topic) + pid + payload)


PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"


# -- WebSocket framing --------------------------------------------------------------------


def mask_frame(payload: bytes, key: bytes) -> bytes:
    """A client-to-server binary frame (FIN set, masked with `key`)."""
    n = len(payload)
    if n < 126:
        header = bytes((0x82, 0x80 | n))
    elif n < 65536:
        header = bytes((0x82, 0x80 | 126)) + struct.pack(">H", n)
    else:
        header = bytes((0x82, 0x80 | 127)) + struct.pack(">Q", n)
    mask = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "little") ^ int.from_bytes(mask, "little")).to_bytes(n, "little")
    return header + key + masked


def _unmask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    mask = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(mask, "little")).to_bytes(n, "little")


class ConnectionClosed(Exception):
    """The broker closed the connection."""


class MqttClient(asyncio.Protocol):
    """One lean MQTT connection; counts PUBLISH/PUBACK packets as they are parsed."""

    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint
        self._ws = endpoint.transport == Transport.WS
        self._key = os.urandom(4)
        self._transport: asyncio.Transport | None = None
        self._handshaking = self._ws
        self._raw = b""  # bytes not yet de-framed (WebSocket) or not yet parsed (TCP)
        self._mqtt = b""  # MQTT bytes not yet parsed
        self._can_write = asyncio.Event()
        self._can_write.set()
        self._handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._control: dict[int, asyncio.Future[bytes]] = {}
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.received = 0  # PUBLISH packets received
        self.acked = 0  # PUBACK packets received
        self.frames = 0  # WebSocket data frames received
        self.stamps: list[int] | None = None  # latencies (ns) when timestamps are being read
        self.on_ack: Callable[[], None] | None = None
        self._shared: MutableSequence[int] | None = None
        self._shared_index = 0

    def share_count(self, counts: MutableSequence[int], index: int) -> None:
        """Keep `counts[index]` equal to `received` (shared memory read by the publishers)."""
        self._shared, self._shared_index = counts, index

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER)  # type: ignore[union-attr]
        sock = transport.get_extra_info("socket")
        if sock is not None:  # a small kernel buffer: a flood's msg/s is then close to what the broker read
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _KERNEL_SEND_BUFFER)
        if self._ws:
            key = base64.b64encode(os.urandom(16)).decode()
            request = (
                f"GET {self._endpoint.path} HTTP/1.1\r\nHost: {self._endpoint.host}:{self._endpoint.port}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"
            )
            transport.write(request.encode())  # type: ignore[attr-defined]
        else:
            self._handshake.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        for waiter in (self._handshake, *self._control.values()):
            if not waiter.done():
                waiter.set_exception(ConnectionClosed())
        if not self.closed.done():
            self.closed.set_result(None)
        self._can_write.set()

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    def data_received(self, data: bytes) -> None:
        if self._handshaking:
            data = self._finish_handshake(data)
            if not data:
                return
        if self._ws:
            data = self._deframe(data)
        self._parse(self._mqtt + data if self._mqtt else data)

    # -- WebSocket

    def _finish_handshake(self, data: bytes) -> bytes:
        self._raw += data
        end = self._raw.find(b"\r\n\r\n")
        if end < 0:
            return b""
        head, rest = self._raw[:end], self._raw[end + 4 :]
        self._raw = b""
        self._handshaking = False
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            self._handshake.set_exception(ConnectionError(f"WebSocket upgrade refused: {status.decode()}"))
            return b""
        self._handshake.set_result(None)
        return rest

    def _deframe(self, data: bytes) -> bytes:
        buf = self._raw + data if self._raw else data
        n = len(buf)
        i = 0
        chunks: list[bytes] = []
        while n - i >= 2:
            b0, b1 = buf[i], buf[i + 1]
            length = b1 & 0x7F
            j = i + 2
            if length == 126:
                if n - j < 2:
                    break
                length = (buf[j] << 8) | buf[j + 1]
                j += 2
            elif length == 127:
                if n - j < 8:
                    break
                length = int.from_bytes(buf[j : j + 8], "big")
                j += 8
            key = b""
            if b1 & 0x80:
                if n - j < 4:
                    break
                key = buf[j : j + 4]
                j += 4
            if n - j < length:
                break
            payload = buf[j : j + length]
            if key:
                payload = _unmask(payload, key)
            opcode = b0 & 0x0F
            if opcode in (0, 2):
                chunks.append(payload)
            elif opcode == 9 and self._transport is not None:  # ping: answer with a pong
                self._transport.write(b"\x8a" + mask_frame(payload, self._key)[1:])
            elif opcode == 8 and self._transport is not None:  # close
                self._transport.close()
            i = j + length
        self._raw = buf[i:]
        self.frames += len(chunks)
        return b"".join(chunks) if len(chunks) != 1 else chunks[0]

    # -- MQTT

    def _parse(self, buf: bytes) -> None:
        n = len(buf)
        i = 0
        received = 0
        acks: list[bytes] = []
        stamps = self.stamps
        now = time.monotonic_ns() if stamps is not None else 0
        while n - i >= 2:
            first = buf[i]
            j = i + 1
            length = 0
            shift = 0
            while True:
                if j >= n:
                    length = -1
                    break
                byte = buf[j]
                j += 1
                length |= (byte & 0x7F) << shift
                if not byte & 0x80:
                    break
                shift += 7
            if length < 0 or n - j < length:
                break
            end = j + length
            kind = first >> 4
            if kind == 3:
                received += 1
                start = j + 2 + ((buf[j] << 8) | buf[j + 1])
                if first & 0x06:
                    acks.append(b"\x40\x02" + buf[start : start + 2])
                    start += 2
                if stamps is not None and end - start >= STAMP.size:
                    latency = now - STAMP.unpack_from(buf, start)[0]
                    if 0 <= latency < _MAX_LATENCY_NS:  # not a flood leftover without a timestamp
                        stamps.append(latency)
            elif kind == 4:
                self.acked += 1
                if self.on_ack is not None:
                    self.on_ack()
            elif kind in (2, 9, 11):  # CONNACK, SUBACK, UNSUBACK
                waiter = self._control.pop(kind, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(buf[j:end])
            i = end
        self._mqtt = buf[i:] if i < n else b""
        if received:
            self.received += received
            if self._shared is not None:
                self._shared[self._shared_index] = self.received
        if acks:
            self.send(b"".join(acks))

    # -- sending

    def send(self, data: bytes) -> None:
        """Send bytes holding whole MQTT packets (one WebSocket frame)."""
        if self._transport is None or self._transport.is_closing():
            return
        self._transport.write(mask_frame(data, self._key) if self._ws else data)

    def send_frame(self, frame: bytes) -> None:
        """Send bytes already framed with `frame()` (pre-encoded floods)."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame)

    def frame(self, data: bytes) -> bytes:
        """Frame (and mask) MQTT bytes once, to send them many times."""
        return mask_frame(data, self._key) if self._ws else data

    async def writable(self) -> None:
        """Wait while the transport's write buffer is over its high-water mark."""
        if not self._can_write.is_set():
            await self._can_write.wait()

    @property
    def is_closed(self) -> bool:
        return self.closed.done()

    async def request(self, data: bytes, reply_kind: int) -> bytes:
        """Send a packet and wait for the reply packet of `reply_kind`; return its body."""
        waiter = asyncio.get_running_loop().create_future()
        self._control[reply_kind] = waiter
        self.send(data)
        async with asyncio.timeout(_REPLY_TIMEOUT_S):
            return await waiter

    async def start(self, client: ClientSpec) -> None:
        """Open the connection and log in."""
        await asyncio.wait_for(self._handshake, 10)
        body = await self.request(encode_connect(client.client_id, client.username, client.password), 2)
        if body[1] != 0:
            raise ConnectionError(f"CONNACK return code {body[1]} for {client.username}")

    def close(self) -> None:
        """Say DISCONNECT and close."""
        self.send(DISCONNECT)
        if self._transport is not None:
            self._transport.close()


async def open_client(endpoint: Endpoint, client: ClientSpec) -> MqttClient:
    """Connect and authenticate one client."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(lambda: MqttClient(endpoint), endpoint.host, endpoint.port)
    await protocol.start(client)
    return protocol


async def subscribe(mqtt: MqttClient, topic_filter: str, qos: int = 1) -> None:
    """Subscribe and check the broker granted it."""
    body = await mqtt.request(encode_subscribe(topic_filter, qos), 9)
    if body[-1] == 0x80:
        raise PermissionError(f"SUBSCRIBE to {topic_filter} refused")


async def keep_alive(clients: list[MqttClient]) -> None:
    """Send PINGREQ at half the keep-alive period, for clients that may stay silent."""
    while True:
        await asyncio.sleep(KEEPALIVE_S / 2)
        for mqtt in clients:
            mqtt.send(PINGREQ)
