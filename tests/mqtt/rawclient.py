"""A minimal MQTT 3.1.1 client over raw TCP or WebSocket, for tests that misbehave on purpose.

Unlike aiomqtt, it sends exactly the bytes a test asks for, reads only when the test reads
(so it can stop reading altogether), and never acknowledges anything by itself.
"""

import asyncio
import contextlib
import socket
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

import aiohttp

from tests.conftest import PASSWORDS

CONNACK = 2
PUBLISH = 3
PUBACK = 4
SUBACK = 9
PINGRESP = 13
PINGREQ_BYTES = b"\xc0\x00"
DISCONNECT_BYTES = b"\xe0\x00"


def remaining_length(length: int) -> bytes:
    """The variable-length size field of a fixed header."""
    out = bytearray()
    while True:
        digit, length = length & 0x7F, length >> 7
        out.append(digit | (0x80 if length else 0))
        if not length:
            return bytes(out)


def frame(first: int, body: bytes) -> bytes:
    """A whole packet: first byte, remaining length, body."""
    return bytes((first,)) + remaining_length(len(body)) + body


def utf8(text: str | bytes) -> bytes:
    """A length-prefixed MQTT string."""
    data = text.encode() if isinstance(text, str) else text
    return len(data).to_bytes(2, "big") + data


def connect_packet(
    client_id: str,
    *,
    username: str | None = None,
    password: str | bytes | None = None,
    keepalive: int = 60,
    clean_session: bool = True,
    will: tuple[str, bytes] | None = None,
    protocol_level: int = 4,
) -> bytes:
    """CONNECT with the given fields (will at QoS 0, not retained)."""
    flags = (0x02 if clean_session else 0) | (0x04 if will else 0)
    flags |= (0x80 if username is not None else 0) | (0x40 if password is not None else 0)
    body = utf8("MQTT") + bytes((protocol_level, flags)) + keepalive.to_bytes(2, "big") + utf8(client_id)
    if will:
        body += utf8(will[0]) + utf8(will[1])
    if username is not None:
        body += utf8(username)
    if password is not None:
        body += utf8(password)
    return frame(0x10, body)


def subscribe_packet(packet_id: int, filters: list[tuple[str, int]]) -> bytes:
    """SUBSCRIBE for each (filter, requested QoS)."""
    body = packet_id.to_bytes(2, "big") + b"".join(utf8(f) + bytes((qos,)) for f, qos in filters)
    return frame(0x82, body)


def publish_packet(
    topic: str, payload: bytes, qos: int = 0, packet_id: int | None = None, retain: bool = False
) -> bytes:
    """PUBLISH; QoS 1 and 2 need a packet id."""
    body = utf8(topic) + (packet_id.to_bytes(2, "big") if qos else b"") + payload  # type: ignore[union-attr]
    return frame(0x30 | (qos << 1) | int(retain), body)


def puback_packet(packet_id: int) -> bytes:
    return frame(0x40, packet_id.to_bytes(2, "big"))


@dataclass(frozen=True)
class Packet:
    """One packet received from the broker."""

    first: int
    body: bytes

    @property
    def kind(self) -> int:
        return self.first >> 4

    @property
    def qos(self) -> int:
        return (self.first >> 1) & 0x03

    @property
    def topic(self) -> str:
        """A PUBLISH packet's topic."""
        size = int.from_bytes(self.body[:2], "big")
        return self.body[2 : 2 + size].decode()

    @property
    def packet_id(self) -> int:
        """A PUBLISH (QoS > 0), PUBACK or SUBACK packet's id."""
        if self.kind != PUBLISH:
            return int.from_bytes(self.body[:2], "big")
        start = 2 + int.from_bytes(self.body[:2], "big")
        return int.from_bytes(self.body[start : start + 2], "big")

    @property
    def payload(self) -> bytes:
        """A PUBLISH packet's payload."""
        start = 2 + int.from_bytes(self.body[:2], "big") + (2 if self.qos else 0)
        return self.body[start:]


class ConnectionClosed(Exception):
    """The broker closed the connection while a packet was expected."""


class RawClient(ABC):
    """Byte-level MQTT client; subclasses provide the transport."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.eof = False

    @abstractmethod
    async def send(self, data: bytes) -> None:
        """Send raw bytes."""

    @abstractmethod
    async def _receive(self) -> bytes | None:
        """Next chunk from the transport, None once the peer has closed."""

    @abstractmethod
    async def close(self) -> None:
        """Close the transport (politely: a WebSocket sends its close frame)."""

    async def abort(self) -> None:
        """Drop the connection without any goodbye; the default is close()."""
        await self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def read_packet(self) -> Packet | None:
        """The next whole packet, or None when the broker closed the connection."""
        while True:
            parsed = self._parse()
            if parsed is not None:
                return parsed
            if self.eof:
                return None
            chunk = await self._receive()
            if chunk is None:
                self.eof = True
            else:
                self._buf += chunk

    def _parse(self) -> Packet | None:
        buf = self._buf
        if len(buf) < 2:
            return None
        length, shift, index = 0, 0, 1
        while True:
            if index >= len(buf):
                return None
            byte = buf[index]
            length |= (byte & 0x7F) << shift
            index += 1
            if byte < 0x80:
                break
            shift += 7
        if len(buf) < index + length:
            return None
        packet = Packet(buf[0], bytes(buf[index : index + length]))
        del buf[: index + length]
        return packet

    async def next_packet(self) -> Packet:
        """The next packet; raise ConnectionClosed if the broker closed the connection instead."""
        packet = await self.read_packet()
        if packet is None:
            raise ConnectionClosed("the broker closed the connection")
        return packet

    async def expect(self, kind: int) -> Packet:
        """The next packet, which must be of `kind`."""
        packet = await self.next_packet()
        assert packet.kind == kind, f"expected packet type {kind}, got {packet.kind}"
        return packet

    async def connect(
        self, client_id: str, username: str | None = "admin", password: str | None = None, **kw: object
    ) -> int:
        """Send CONNECT and return the CONNACK return code (0 = accepted)."""
        if username is not None and password is None:
            password = PASSWORDS[username]
        await self.send(connect_packet(client_id, username=username, password=password, **kw))  # type: ignore[arg-type]
        connack = await self.expect(CONNACK)
        return connack.body[1]

    async def subscribe(self, filters: list[tuple[str, int]], packet_id: int = 1) -> list[int]:
        """Subscribe and return the SUBACK return codes."""
        await self.send(subscribe_packet(packet_id, filters))
        suback = await self.expect(SUBACK)
        assert suback.packet_id == packet_id
        return list(suback.body[2:])

    async def wait_closed(self) -> list[Packet]:
        """Read until the broker closes the connection; return what arrived meanwhile."""
        packets = []
        while (packet := await self.read_packet()) is not None:
            packets.append(packet)
        return packets


def _small_buffer_socket(family: int, rcvbuf: int | None) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    if rcvbuf is not None:
        # Set before connecting, so the advertised TCP window is small from the start.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    return sock


class TcpRawClient(RawClient):
    """MQTT over a plain TCP socket that is read only when the test reads."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock
        self._loop = asyncio.get_running_loop()

    @classmethod
    async def open(cls, host: str, port: int, rcvbuf: int | None = None) -> "TcpRawClient":
        sock = _small_buffer_socket(socket.AF_INET, rcvbuf)
        try:
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
        except BaseException:
            sock.close()
            raise
        return cls(sock)

    async def send(self, data: bytes) -> None:
        await self._loop.sock_sendall(self._sock, data)

    async def _receive(self) -> bytes | None:
        try:
            chunk = await self._loop.sock_recv(self._sock, 65536)
        except ConnectionResetError:  # closed by the broker with our unread data in its buffer
            return None
        return chunk or None

    async def close(self) -> None:
        self._sock.close()


class WsRawClient(RawClient):
    """MQTT over an aiohttp client WebSocket; frames are read only when the test reads."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        super().__init__()
        self._session = session
        self.ws = ws
        self.close_code: int | None = None

    @classmethod
    async def open(
        cls, url: str, protocols: tuple[str, ...] = ("mqtt",), rcvbuf: int | None = None
    ) -> "WsRawClient":
        connector = aiohttp.TCPConnector(
            socket_factory=lambda info: _small_buffer_socket(info[0], rcvbuf), force_close=True
        )
        session = aiohttp.ClientSession(connector=connector)
        try:
            ws = await session.ws_connect(url, protocols=protocols, autoping=True, max_msg_size=0)
        except BaseException:
            await session.close()
            raise
        return cls(session, ws)

    async def send(self, data: bytes) -> None:
        await self.ws.send_bytes(data)

    async def send_text(self, text: str) -> None:
        await self.ws.send_str(text)

    async def _receive(self) -> bytes | None:
        message = await self.ws.receive()
        if message.type == aiohttp.WSMsgType.BINARY:
            return message.data
        if message.type == aiohttp.WSMsgType.CLOSE:
            self.close_code = message.data
        return None

    async def close(self) -> None:
        if not self._session.closed:
            with contextlib.suppress(Exception):
                await self.ws.close()
        await self._session.close()

    async def abort(self) -> None:
        """Close the TCP connection under the WebSocket, with no close frame."""
        await self._session.close()


async def open_raw(transport: str, http_port: int, tcp_port: int, rcvbuf: int | None = None) -> RawClient:
    """A raw client over "websockets" (/mqtt on the HTTP port) or "tcp"."""
    if transport == "tcp":
        return await TcpRawClient.open("127.0.0.1", tcp_port, rcvbuf)
    return await WsRawClient.open(f"http://127.0.0.1:{http_port}/mqtt", rcvbuf=rcvbuf)


async def wait_until(condition: Callable[[], bool]) -> None:
    """Poll broker state that has no event to wait on, for at most 5 s."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - nothing to await: the state is a plain attribute
            await asyncio.sleep(0.01)


async def broker_counters(http_port: int) -> dict[str, object]:
    """The broker component of GET /api/health (its counters and client figures)."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{http_port}/api/health") as response,
    ):
        body = await response.json()
    return body["components"]["broker"]
