"""A raw MQTT 3.1.1 client for broker tests, over TCP or WebSocket.

Library clients (aiomqtt/paho) refuse to send invalid packets, always acknowledge, ping on
their own and say goodbye politely. Broker tests need a client that can do none of that:
send any packet, stay silent, never PUBACK, or vanish without DISCONNECT. This one is
written from the MQTT 3.1.1 spec, independently of the hub's own codec in `hub.mqtt.wire`,
so a codec bug in the hub cannot hide itself from the tests.
"""

import asyncio
import contextlib
import socket
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import IntEnum

import aiohttp

from tests.conftest import PASSWORDS

WAIT_S = 5.0  # upper bound for anything the tests wait on; reached only when a test fails
HOST = "127.0.0.1"


class Kind(IntEnum):
    """MQTT control packet types (MQTT 3.1.1 section 2.2.1)."""

    CONNECT = 1
    CONNACK = 2
    PUBLISH = 3
    PUBACK = 4
    SUBSCRIBE = 8
    SUBACK = 9
    PINGREQ = 12
    PINGRESP = 13
    DISCONNECT = 14


class ConnackCode(IntEnum):
    """CONNACK return codes (MQTT 3.1.1 section 3.2.2.3)."""

    ACCEPTED = 0
    BAD_USERNAME_PASSWORD = 4
    NOT_AUTHORIZED = 5


SUBACK_FAILURE = 0x80


def login(user: str) -> dict[str, str]:
    """Keyword arguments for `connected(...)` with a test user's credentials."""
    return {"user": user, "password": PASSWORDS[user]}


@dataclass(frozen=True)
class Packet:
    """One control packet as read from the wire."""

    kind: int
    flags: int
    body: bytes


@dataclass(frozen=True)
class Connack:
    session_present: bool
    code: int


@dataclass(frozen=True)
class Publish:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    dup: bool
    packet_id: int | None


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False


class UnexpectedPacket(AssertionError):
    """The broker sent something the test did not expect at this point."""


def _string(value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return len(data).to_bytes(2, "big") + data


def _remaining_length(length: int) -> bytes:
    out = bytearray()
    while True:
        digit, length = length & 0x7F, length >> 7
        out.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(out)


def frame(kind: int, flags: int, body: bytes) -> bytes:
    """Encode a control packet from its type, flags and body."""
    return bytes(((kind << 4) | flags,)) + _remaining_length(len(body)) + body


def connect_packet(
    client_id: str,
    *,
    username: str | None = None,
    password: str | None = None,
    clean_session: bool = True,
    keep_alive: int = 60,
    will: Will | None = None,
) -> bytes:
    """Encode a CONNECT (protocol level 4)."""
    flags = 0x02 if clean_session else 0
    payload = _string(client_id)
    if will is not None:
        flags |= 0x04 | (will.qos << 3) | (0x20 if will.retain else 0)
        payload += _string(will.topic) + _string(will.payload)
    if username is not None:
        flags |= 0x80
        payload += _string(username)
    if password is not None:
        flags |= 0x40
        payload += _string(password)
    header = _string("MQTT") + bytes((4, flags)) + keep_alive.to_bytes(2, "big")
    return frame(Kind.CONNECT, 0, header + payload)


def publish_packet(
    topic: str, payload: bytes, qos: int = 0, retain: bool = False, packet_id: int = 1, dup: bool = False
) -> bytes:
    """Encode a PUBLISH; the topic is sent as given, valid or not."""
    flags = (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0)
    body = _string(topic) + (packet_id.to_bytes(2, "big") if qos else b"") + payload
    return frame(Kind.PUBLISH, flags, body)


def decode_publish(packet: Packet) -> Publish:
    """Decode a PUBLISH packet's fixed-header flags and body."""
    qos = (packet.flags >> 1) & 0x03
    end = 2 + int.from_bytes(packet.body[:2], "big")
    topic = packet.body[2:end].decode()
    packet_id = None
    if qos:
        packet_id = int.from_bytes(packet.body[end : end + 2], "big")
        end += 2
    return Publish(
        topic, packet.body[end:], qos, bool(packet.flags & 1), bool(packet.flags & 0x08), packet_id
    )


class _Link:
    """A byte pipe to the broker."""

    async def send(self, data: bytes) -> None:
        raise NotImplementedError

    async def receive(self) -> bytes | None:
        """The next bytes from the broker, or None once the broker closed the connection."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def kill(self) -> None:
        """Drop the connection at the TCP level: no DISCONNECT, no WebSocket close frame."""
        raise NotImplementedError


class _TcpLink(_Link):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def send(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def receive(self) -> bytes | None:
        try:
            return await self._reader.read(65536) or None
        except ConnectionError:
            return None

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()

    async def kill(self) -> None:
        self._writer.transport.abort()


class _WebSocketLink(_Link):
    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._session = session
        self._ws = ws

    async def send(self, data: bytes) -> None:
        await self._ws.send_bytes(data)

    async def receive(self) -> bytes | None:
        message = await self._ws.receive()
        if message.type == aiohttp.WSMsgType.BINARY:
            return message.data
        return None

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._ws.close()
        await self._session.close()

    async def kill(self) -> None:
        sock = self._ws.get_extra_info("socket")
        assert sock is not None, "no socket under the WebSocket"
        sock.shutdown(socket.SHUT_RDWR)
        await self._session.close()


async def _open_link(transport: str, port: int) -> _Link:
    if transport == "tcp":
        reader, writer = await asyncio.open_connection(HOST, port)
        return _TcpLink(reader, writer)
    if transport == "websockets":
        session = aiohttp.ClientSession()
        try:
            ws = await session.ws_connect(f"http://{HOST}:{port}/mqtt", protocols=("mqtt",), autoping=True)
        except BaseException:
            await session.close()
            raise
        return _WebSocketLink(session, ws)
    raise ValueError(f"unknown transport {transport!r}")


class RawClient:
    """One connection to the broker, driven packet by packet by the test."""

    def __init__(self, link: _Link) -> None:
        self._link = link
        self._buf = bytearray()
        self._eof = False
        self._next_id = 0
        self._stashed: deque[Packet] = deque()  # PUBLISHes that arrived while waiting for an ack

    async def send(self, data: bytes) -> None:
        """Send raw bytes (one or more packets, valid or not)."""
        await self._link.send(data)

    async def read_packet(self) -> Packet | None:
        """The next packet, or None when the broker has closed the connection."""
        if self._stashed:
            return self._stashed.popleft()
        return await self._read_wire()

    async def _read_wire(self) -> Packet | None:
        while True:
            packet = self._take_packet()
            if packet is not None:
                return packet
            if self._eof:
                return None
            chunk = await self._link.receive()
            if chunk is None:
                self._eof = True
            else:
                self._buf += chunk

    def _take_packet(self) -> Packet | None:
        length, multiplier, index = 0, 1, 1
        while True:
            if index >= len(self._buf):
                return None
            byte = self._buf[index]
            length += (byte & 0x7F) * multiplier
            multiplier *= 128
            index += 1
            if byte < 0x80:
                break
        if len(self._buf) < index + length:
            return None
        first = self._buf[0]
        body = bytes(self._buf[index : index + length])
        del self._buf[: index + length]
        return Packet(first >> 4, first & 0x0F, body)

    async def _expect_ack(self, kind: Kind, packet_id: int) -> Packet:
        """Wait for an acknowledgement, keeping any PUBLISH that arrives first for read_packet()."""
        while True:
            packet = await self._read_wire()
            if packet is None:
                raise UnexpectedPacket(f"connection closed by the broker while expecting {kind.name}")
            if packet.kind == Kind.PUBLISH:
                self._stashed.append(packet)
                continue
            if packet.kind != kind:
                raise UnexpectedPacket(f"expected {kind.name}, got packet type {packet.kind}: {packet}")
            if int.from_bytes(packet.body[:2], "big") != packet_id:
                raise UnexpectedPacket(f"{kind.name} for another packet id: {packet}")
            return packet

    async def expect(self, kind: Kind) -> Packet:
        """Read the next packet and require it to be of `kind`."""
        packet = await self.read_packet()
        if packet is None:
            raise UnexpectedPacket(f"connection closed by the broker while expecting {kind.name}")
        if packet.kind != kind:
            raise UnexpectedPacket(f"expected {kind.name}, got packet type {packet.kind}: {packet}")
        return packet

    async def connect(
        self,
        client_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        clean_session: bool = True,
        keep_alive: int = 60,
        will: Will | None = None,
    ) -> Connack:
        """Send CONNECT and return the CONNACK."""
        await self.send(
            connect_packet(
                client_id,
                username=username,
                password=password,
                clean_session=clean_session,
                keep_alive=keep_alive,
                will=will,
            )
        )
        packet = await self.expect(Kind.CONNACK)
        return Connack(bool(packet.body[0] & 0x01), packet.body[1])

    async def subscribe(self, *filters: tuple[str, int]) -> tuple[int, ...]:
        """Subscribe to (filter, qos) pairs in one SUBSCRIBE; return the SUBACK return codes."""
        packet_id = self._packet_id()
        body = packet_id.to_bytes(2, "big") + b"".join(_string(f) + bytes((q,)) for f, q in filters)
        await self.send(frame(Kind.SUBSCRIBE, 0x02, body))
        suback = await self._expect_ack(Kind.SUBACK, packet_id)
        return tuple(suback.body[2:])

    async def publish(
        self, topic: str, payload: bytes, qos: int = 0, retain: bool = False, *, wait_ack: bool = True
    ) -> None:
        """Publish; for QoS 1, wait for the PUBACK unless `wait_ack` is False."""
        packet_id = self._packet_id()
        await self.send(publish_packet(topic, payload, qos, retain, packet_id))
        if qos == 1 and wait_ack:
            await self._expect_ack(Kind.PUBACK, packet_id)

    async def puback(self, packet_id: int) -> None:
        await self.send(frame(Kind.PUBACK, 0, packet_id.to_bytes(2, "big")))

    async def ping(self) -> None:
        """Send PINGREQ and wait for PINGRESP (a PUBLISH arriving first is kept for read_packet())."""
        await self.send(frame(Kind.PINGREQ, 0, b""))
        while True:
            packet = await self._read_wire()
            if packet is None:
                raise UnexpectedPacket("connection closed by the broker while expecting PINGRESP")
            if packet.kind == Kind.PINGRESP:
                return
            if packet.kind != Kind.PUBLISH:
                raise UnexpectedPacket(f"expected PINGRESP, got packet type {packet.kind}: {packet}")
            self._stashed.append(packet)

    async def next_publish(self, *, ack: bool = True) -> Publish:
        """The next packet, which must be a PUBLISH; QoS 1 is acknowledged unless `ack` is False."""
        message = decode_publish(await self.expect(Kind.PUBLISH))
        if ack and message.qos == 1:
            await self.puback(message.packet_id)  # type: ignore[arg-type]
        return message

    async def publishes_until(self, topic: str) -> list[Publish]:
        """Every PUBLISH received up to and including the first one on `topic` (a marker)."""
        received = []
        while True:
            message = await self.next_publish()
            received.append(message)
            if message.topic == topic:
                return received

    async def wait_closed(self) -> list[Packet]:
        """Read until the broker closes the connection; return what arrived meanwhile."""
        packets = []
        while (packet := await self.read_packet()) is not None:
            packets.append(packet)
        return packets

    async def disconnect(self) -> None:
        """Say goodbye properly (DISCONNECT), then close."""
        with contextlib.suppress(ConnectionError, OSError):
            await self.send(frame(Kind.DISCONNECT, 0, b""))
        await self.close()

    async def kill(self) -> None:
        """Vanish: the socket is dropped with no DISCONNECT."""
        await self._link.kill()

    async def close(self) -> None:
        await self._link.close()

    def _packet_id(self) -> int:
        self._next_id = self._next_id % 0xFFFF + 1
        return self._next_id


@contextlib.asynccontextmanager
async def raw_client(transport: str, port: int) -> AsyncIterator[RawClient]:
    """Open a raw connection (no CONNECT sent yet); it is closed on exit, however the test ended."""
    async with asyncio.timeout(WAIT_S):
        link = await _open_link(transport, port)
    client = RawClient(link)
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            await client.close()


@contextlib.asynccontextmanager
async def connected(
    transport: str,
    port: int,
    client_id: str,
    *,
    user: str | None = None,
    password: str | None = None,
    clean_session: bool = True,
    keep_alive: int = 60,
    will: Will | None = None,
) -> AsyncIterator[RawClient]:
    """A raw client whose CONNECT was accepted."""
    async with raw_client(transport, port) as client:
        async with asyncio.timeout(WAIT_S):
            connack = await client.connect(
                client_id,
                username=user,
                password=password,
                clean_session=clean_session,
                keep_alive=keep_alive,
                will=will,
            )
        assert connack.code == ConnackCode.ACCEPTED, f"CONNECT of {client_id!r} refused: {connack}"
        yield client
