"""A real Mosquitto (Debian's /usr/sbin/mosquitto) on a free loopback port, with its own config file."""

import asyncio
import socket
import subprocess
from pathlib import Path

MOSQUITTO = "/usr/sbin/mosquitto"
READY = b" running"  # "mosquitto version 2.0.11 running"
WAIT_S = 10.0
STOP_S = 3.0  # a broker that has not exited this long after SIGTERM is killed


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mosquitto:
    """Start, stop and restart one broker; it keeps persistent sessions across a restart (persistence on)."""

    def __init__(
        self,
        folder: Path,
        port: int | None = None,
        *,
        settings: str = "allow_anonymous true\n",
        listener: str = "",
    ) -> None:
        """`settings` are global lines; `listener` lines follow the main listener's (and may open others)."""
        self.port = port or free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            "per_listener_settings false\n"
            f"{settings}"
            f"listener {self.port} 127.0.0.1\n"
            f"{listener}"
            "user root\n"
            "persistence true\n"
            f"persistence_location {folder}/\n"
            "max_queued_messages 100000\n"
            "max_inflight_messages 0\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
        )
        self.process: subprocess.Popen[bytes] | None = None
        self._drain: asyncio.Task[None] | None = None
        self.log: list[bytes] = []

    async def start(self) -> None:
        """Start the broker and return once it says it is running.

        A plain Popen (which only forks) and a bounded wait in stop(): a broker that ignored SIGTERM
        once hung an asyncio `Process.wait()` for good.
        """
        self.process = subprocess.Popen(  # noqa: ASYNC220
            [MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert self.process.stderr is not None
        stderr = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stderr), self.process.stderr)
        async with asyncio.timeout(WAIT_S):
            while not (line := await stderr.readline()).endswith(READY + b"\n"):
                assert line, f"mosquitto exited: {b''.join(self.log).decode()}"
                self.log.append(line)
        self._drain = asyncio.create_task(self._keep_reading(stderr))

    async def _keep_reading(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self.log.append(line)

    async def stop(self) -> None:
        """Stop the broker (SIGTERM: it saves its sessions) and wait for it to exit."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self._drain is not None:
            async with asyncio.timeout(WAIT_S):
                await self._drain
        self.process = None


def make_certificates(folder: Path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate (openssl), in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=test-ca")  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}")  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-extfile", "san.ext")  # fmt: skip
    return folder


def password_file(folder: Path, username: str, password: str) -> Path:
    """A Mosquitto password file with one user (mosquitto_passwd)."""
    path = folder / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-c", "-b", str(path), username, password], check=True, capture_output=True
    )
    return path
