"""A tiny SMTP listener on loopback for tests: it keeps every message it is sent."""

import asyncio
import base64
import email
from email.message import Message


class SmtpListener:
    """Answers just enough SMTP for smtplib; the first `busy` connections are turned away with 421."""

    def __init__(self, busy: int = 0) -> None:
        self.busy = busy
        self.connections = 0
        self.logins: list[tuple[str, str]] = []  # (username, password) from AUTH PLAIN
        self.messages: asyncio.Queue[tuple[str, list[str], Message]] = asyncio.Queue()
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            if self.connections <= self.busy:
                writer.write(b"421 test busy, try later\r\n")
                return
            await self._session(reader, writer)
        finally:
            writer.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 test ESMTP\r\n")
        sender, recipients = "", []
        while line := await reader.readline():
            command = line.decode().strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                writer.write(b"250-test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
            elif verb == "AUTH":
                _, user, password = base64.b64decode(command.split()[-1]).decode().split("\0")
                self.logins.append((user, password))
                writer.write(b"235 accepted\r\n")
            elif verb == "MAIL":
                sender = command.partition(":")[2].strip()
                writer.write(b"250 OK\r\n")
            elif verb == "RCPT":
                recipients.append(command.partition(":")[2].strip())
                writer.write(b"250 OK\r\n")
            elif verb == "DATA":
                writer.write(b"354 end with .\r\n")
                body = await _data(reader)
                self.messages.put_nowait((sender, recipients, email.message_from_bytes(body)))
                writer.write(b"250 queued\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                return
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()


async def _data(reader: asyncio.StreamReader) -> bytes:
    lines = []
    while (line := await reader.readline()) not in (b".\r\n", b""):
        lines.append(line[1:] if line.startswith(b"..") else line)
    return b"".join(lines)
