"""The brokers under test, each started as a subprocess on 127.0.0.1 in a temporary folder.

- hub: the real hub (`python -m hub run`), MQTT users with ACLs (publish/subscribe allow lists
  and a deny rule), log level warning.
- mosquitto: `/usr/sbin/mosquitto` with a WebSocket and a TCP listener, a password file made
  by `mosquitto_passwd` and an ACL file equivalent to the hub's.
- amqtt: stock `amqtt.broker.Broker` 0.12.1 with a `ws` listener and only the anonymous
  auth plugin (no ACL), as in the issue's reference figures.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil
from mqtt_client import ClientSpec, Endpoint, Transport

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PUB_USER, PUB_PASSWORD = "bench-pub", "bench-pub-secret"
SUB_USER, SUB_PASSWORD = "bench-sub", "bench-sub-secret"
DENIED = "bench/secret/#"  # refused to both users: makes every ACL check walk a deny list
_START_TIMEOUT_S = 20.0

_HUB_CONFIG = f"""\
log_level: warning
http: {{host: {HOST}, port: 8080}}
identity: {{org_id: bench, site_id: lab, iot_device_id: hub-1}}
mqtt:
  tcp: {{enabled: true, host: {HOST}, port: {{tcp_port}}}}
  users:
    - username: {PUB_USER}
      password: {PUB_PASSWORD}
      publish: ["bench/#"]
      deny: ["{DENIED}"]
    - username: {SUB_USER}
      password: {SUB_PASSWORD}
      subscribe: ["bench/#"]
      deny: ["{DENIED}"]
"""

_MOSQUITTO_ACL = f"""\
user {PUB_USER}
topic write bench/#
topic deny {DENIED}

user {SUB_USER}
topic read bench/#
topic deny {DENIED}
"""

_AMQTT_SCRIPT = textwrap.dedent(
    """
    import asyncio, logging, sys
    from amqtt.broker import Broker

    logging.basicConfig(level=logging.WARNING)

    async def main():
        broker = Broker({
            "listeners": {"default": {"type": "ws", "bind": f"127.0.0.1:{sys.argv[1]}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        })
        await broker.start()
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


def pub_client(client_id: str, topic: str) -> ClientSpec:
    """A client with the publisher's credentials."""
    return ClientSpec(client_id, PUB_USER, PUB_PASSWORD, topic)


def sub_client(client_id: str, topic: str) -> ClientSpec:
    """A client with the subscriber's credentials."""
    return ClientSpec(client_id, SUB_USER, SUB_PASSWORD, topic)


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Broker:
    """A running broker process and how to reach it."""

    name: str
    process: subprocess.Popen[bytes]
    ws: Endpoint
    tcp: Endpoint | None
    health_url: str | None = None  # the hub's /api/health, for its drop counters
    bounded: bool = True  # False: no back-pressure nor drop policy, an open-loop flood only grows its queue

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self) -> float:
        """Resident memory now (VmRSS), MB."""
        return psutil.Process(self.pid).memory_info().rss / 2**20

    def peak_rss_mb(self) -> float:
        """Peak resident memory since start (VmHWM), MB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def counters(self) -> dict[str, int]:
        """The hub's broker counters (empty for other brokers)."""
        if self.health_url is None:
            return {}
        with urllib.request.urlopen(self.health_url, timeout=5) as response:
            broker = json.load(response)["components"]["broker"]
        return {k: v for k, v in broker.items() if isinstance(v, int)}

    def stop(self) -> None:
        """Terminate, then kill if it does not exit."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _wait_ready(process: subprocess.Popen[bytes], ports: list[int], log: Path, url: str | None) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"exited with {process.returncode}:\n{log.read_text(errors='replace')[-2000:]}"
            )
        if all(_port_open(port) for port in ports) and (url is None or _url_ok(url)):
            return
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"not ready after {_START_TIMEOUT_S:g} s:\n{log.read_text(errors='replace')[-2000:]}")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


def _url_ok(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
        return response.status == 200
    return False


def _spawn(args: list[str], log: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd)


def start_hub(workdir: Path) -> Broker:
    """The hub with users and ACLs, HTTP and MQTT TCP on free loopback ports.

    The port is chosen here rather than with `--port 0`, because at log level warning the
    hub does not print the "listening on" line; readiness is /api/health answering 200.
    """
    http_port, tcp_port = free_port(), free_port()
    config = workdir / "hub.yaml"
    config.write_text(_HUB_CONFIG.replace("{tcp_port}", str(tcp_port)))
    args = [sys.executable, "-m", "hub", "run", "--config", str(config), "--port", str(http_port)]
    args += ["--data-dir", str(workdir / "hub-data"), "--log-level", "warning"]
    log = workdir / "hub.log"
    process = _spawn(args, log, cwd=REPO)
    url = f"http://{HOST}:{http_port}/api/health"
    broker = Broker(
        "hub",
        process,
        Endpoint(HOST, http_port, Transport.WS, "/mqtt"),
        Endpoint(HOST, tcp_port, Transport.TCP),
        health_url=url,
    )
    try:
        _wait_ready(process, [http_port, tcp_port], log, url)
    except BaseException:
        broker.stop()
        raise
    return broker


def start_mosquitto(workdir: Path) -> Broker:
    """Mosquitto with a WebSocket and a TCP listener, passwords and an ACL equivalent to the hub's."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    ws_port, tcp_port = free_port(), free_port()
    passwords, acl = workdir / "mosquitto.passwd", workdir / "mosquitto.acl"
    for index, (user, password) in enumerate(((PUB_USER, PUB_PASSWORD), (SUB_USER, SUB_PASSWORD))):
        create = ["-c"] if index == 0 else []
        subprocess.run(["mosquitto_passwd", *create, "-b", str(passwords), user, password], check=True)
    passwords.chmod(0o600)
    acl.write_text(_MOSQUITTO_ACL)
    acl.chmod(0o600)
    lines = [
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {passwords}",
        f"acl_file {acl}",
        "persistence false",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "set_tcp_nodelay true",
        f"listener {ws_port} {HOST}",
        "protocol websockets",
        f"listener {tcp_port} {HOST}",
        "protocol mqtt",
    ]
    if os.geteuid() == 0:
        lines.insert(0, "user root")  # otherwise it drops to user mosquitto and cannot read workdir
    config = workdir / "mosquitto.conf"
    config.write_text("\n".join(lines) + "\n")
    log = workdir / "mosquitto.log"
    process = _spawn([exe, "-c", str(config)], log)
    broker = Broker(
        "mosquitto",
        process,
        Endpoint(HOST, ws_port, Transport.WS, "/mqtt"),
        Endpoint(HOST, tcp_port, Transport.TCP),
    )
    try:
        _wait_ready(process, [ws_port, tcp_port], log, None)
    except BaseException:
        broker.stop()
        raise
    return broker


def start_amqtt(workdir: Path) -> Broker:
    """Stock amqtt 0.12.1: a `ws` listener, anonymous auth plugin only, no ACL."""
    port = free_port()
    log = workdir / "amqtt.log"
    process = _spawn([sys.executable, "-c", _AMQTT_SCRIPT, str(port)], log)
    broker = Broker("amqtt", process, Endpoint(HOST, port, Transport.WS, "/mqtt"), None, bounded=False)
    try:
        _wait_ready(process, [port], log, None)
    except BaseException:
        broker.stop()
        raise
    return broker
