"""Byte streams between a network connection and the broker, for WebSocket and TCP alike.

amqtt ships no aiohttp adapter, and its sample treats 0.5 s of silence as end of stream.
These readers buffer whatever the transport delivers (MQTT packets need not align with
WebSocket frames) and cut it into whole packets, checking the announced size *before*
buffering a body so an oversized packet cannot make the hub allocate it.
"""

import asyncio
import contextlib
import ssl
from abc import abstractmethod

from aiohttp import WebSocketError, WSCloseCode, WSMsgType, web
from amqtt.adapters import ReaderAdapter, WriterAdapter

from hub.mqtt.wire import PacketTooLarge, ProtocolViolation, decode_remaining_length

_READ_CHUNK = 65536


class PacketReader(ReaderAdapter):
    """A buffered reader that also yields whole MQTT packets."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0
        self._eof = False
        # Seconds to wait for more bytes before TimeoutError (keep-alive); checked only when the
        # buffer runs dry, so packets that arrive together cost no timer each.
        self.idle_timeout: float | None = None

    @abstractmethod
    async def _receive(self) -> bytes | None:
        """Return the next chunk from the transport, or None at end of stream."""

    async def _fill(self) -> bool:
        if self._eof:
            return False
        if self.idle_timeout is None:
            chunk = await self._receive()
        else:
            async with asyncio.timeout(self.idle_timeout):
                chunk = await self._receive()
        if chunk is None:
            self._eof = True
            return False
        if self._pos == len(self._buf):
            self._buf = bytearray(chunk)
            self._pos = 0
        else:
            self._buf += chunk
        return True

    async def read(self, n: int = -1) -> bytes:
        """Read exactly `n` bytes (fewer only at end of stream), as amqtt's packet parsers expect."""
        while len(self._buf) - self._pos < n and await self._fill():
            pass
        end = len(self._buf) if n < 0 else self._pos + n
        data = bytes(self._buf[self._pos : end])
        self._pos += len(data)
        return data

    async def read_packet(self, max_size: int) -> tuple[int, bytes] | None:
        """Return (first byte, body) of the next packet, or None at end of stream."""
        while True:
            buf = self._buf
            pos = self._pos
            if len(buf) - pos >= 2:
                decoded = decode_remaining_length(buf, pos + 1)
                if decoded is not None:
                    length, body_start = decoded
                    if length > max_size:
                        raise PacketTooLarge(f"packet of {length} bytes exceeds the {max_size} byte limit")
                    end = body_start + length
                    if len(buf) >= end:
                        self._pos = end
                        return buf[pos], bytes(buf[body_start:end])
            if not await self._fill():
                return None

    def feed_eof(self) -> None:
        self._eof = True


class PacketWriter(WriterAdapter):
    """Writes whole packets; `write`/`drain` remain for amqtt's own code paths."""

    def __init__(self, peer: tuple[str, int] | None) -> None:
        self._peer = peer
        self._pending: list[bytes] = []

    @abstractmethod
    async def send(self, data: bytes) -> None:
        """Send bytes holding one or more packets; waits while the peer is not reading."""

    def write(self, data: bytes) -> None:
        self._pending.append(bytes(data))

    async def drain(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            await self.send(data)

    def get_peer_info(self) -> tuple[str, int] | None:
        return self._peer

    def get_ssl_info(self) -> ssl.SSLObject | None:
        return None


class WebSocketReader(PacketReader):
    """Reads the binary frames of an aiohttp WebSocket as one byte stream."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        super().__init__()
        self._ws = ws

    async def _receive(self) -> bytes | None:
        message = await self._ws.receive()
        if message.type == WSMsgType.BINARY:
            return message.data
        if message.type == WSMsgType.TEXT:
            raise ProtocolViolation("WebSocket text frame: MQTT over WebSocket is binary only")
        if message.type == WSMsgType.ERROR:
            if isinstance(message.data, WebSocketError) and message.data.code == WSCloseCode.MESSAGE_TOO_BIG:
                raise PacketTooLarge(f"WebSocket frame too large: {message.data}")
            raise ProtocolViolation(f"WebSocket error: {message.data}")
        return None  # close frames: end of stream


class WebSocketWriter(PacketWriter):
    """Sends each batch of packets as one binary frame (allowed by MQTT 3.1.1 section 6)."""

    def __init__(self, ws: web.WebSocketResponse, peer: tuple[str, int] | None) -> None:
        super().__init__(peer)
        self._ws = ws

    async def send(self, data: bytes) -> None:
        await self._ws.send_bytes(data)

    async def close(self) -> None:
        await self._ws.close()


class TcpReader(PacketReader):
    """Reads an asyncio stream."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        super().__init__()
        self._reader = reader

    async def _receive(self) -> bytes | None:
        chunk = await self._reader.read(_READ_CHUNK)
        return chunk or None


class TcpWriter(PacketWriter):
    """Writes an asyncio stream; drain() blocks while the peer is not reading."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        super().__init__(writer.get_extra_info("peername"))
        self._writer = writer

    async def send(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def close(self) -> None:
        if not self._writer.is_closing():
            self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()


class BufferReader(PacketReader):
    """Serves bytes already read, so amqtt can parse a packet the hub read and checked itself."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._buf = bytearray(data)

    async def _receive(self) -> bytes | None:
        return None
