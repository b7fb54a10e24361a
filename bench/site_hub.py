"""The hub of the site benchmark: its generated config and flows, the process, and its HTTP API.

The hub runs exactly as a user runs it, `python -m hub run --config <dir>/hub.yaml`, on loopback,
with its data folder in the bench's temporary folder. The admin comes from BMS_HUB_ADMIN_PASSWORD;
the bench logs in once and makes an API token for everything else.
"""

import asyncio
import json
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
ADMIN, ADMIN_PASSWORD = "admin", "bench-admin-password-1"
DASHBOARD, DASHBOARD_PASSWORD = "dashboard", "bench-dashboard-password-1"
OPERATOR, OPERATOR_PASSWORD = "operator", "bench-operator-password-1"  # sends commands (the soak)
IDENTITY = ("bench", "site", "hub-1")
PREFIX = "iot/global/{}/{}/{}/".format(*IDENTITY)
PROBE_INSTANCE = 9001
_STOP_S = 30.0


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def free_udp_range(count: int) -> int:
    """The first of `count` consecutive UDP ports that are free now."""
    base = 40000 + os.getpid() % 1000 * 20
    while True:
        try:
            probes = []
            for port in range(base, base + count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                probes.append(sock)
                sock.bind((HOST, port))
            return base
        except OSError:
            base += count
        finally:
            for sock in probes:
                sock.close()


@dataclass(frozen=True)
class Scale:
    """How big the simulated site is."""

    bacnet_devices: int = 100
    analog_inputs: int = 80  # + analog_values + binary_values = points per device
    analog_values: int = 16
    binary_values: int = 4
    modbus_devices: int = 20
    flows: int = 200
    subscribers: int = 50
    bms_rate: float = 10.0  # readings/s from the external BMS
    poll_interval: float = 30.0  # s, BACnet and Modbus
    devices_per_process: int = 25

    @property
    def period(self) -> float:
        """Seconds a simulated input holds each value: three polls see every value."""
        return 3 * self.poll_interval

    @property
    def bacnet_points(self) -> int:
        return self.bacnet_devices * (self.analog_inputs + self.analog_values + self.binary_values)


TINY = Scale(  # the test's: a few of each part
    bacnet_devices=3, analog_inputs=8, analog_values=3, binary_values=1, modbus_devices=2, flows=5,
    subscribers=3, bms_rate=10.0, poll_interval=2.0, devices_per_process=3,
)  # fmt: skip


def flow_files(scale: Scale, first_instance: int) -> dict[str, str]:
    """`scale.flows` instances of the shipped blueprints on the site's devices: PIDs, resets, schedules."""
    files = {}
    kinds = ("pid", "pid", "reset", "fan")
    for n in range(scale.flows):
        device = first_instance + n % scale.bacnet_devices
        kind = kinds[n % len(kinds)] if scale.analog_values >= 3 else "fan"
        if kind == "pid":
            inputs = (
                f"zone_temp: {device}.analogInput.1, zone_setpoint: {device}.analogValue.1, "
                f"damper: {device}.analogValue.2, interval: 30s"
            )
            blueprint = "vav_zone_pid.yaml"
        elif kind == "reset":
            inputs = f"outdoor_air_temp: {device}.analogInput.2, supply_air_setpoint: {device}.analogValue.3"
            blueprint = "sat_reset.yaml"
        else:
            schedule = "{timezone: UTC, week: {mon-sun: ['00:00-12:00', '13:00-24:00']}}"
            inputs = (
                f"schedule: {schedule}, fan_command: {device}.binaryValue.1, "
                f"fan_status: {device}.binaryValue.1, proof_delay: 60s"
            )
            blueprint = "fan_start_stop.yaml"
        use = f"{{path: blueprints/{blueprint}, inputs: {{{inputs}}}}}"
        files[f"site_{n:03d}.yaml"] = f"flow: {{id: site_{n:03d}}}\nuse_blueprint: {use}\n"
    return files


def write_site(
    folder: Path, scale: Scale, devices: list[tuple[int, int]], modbus: list[int], mqtt: int
) -> Path:
    """The hub's config, secrets and flows in `folder`; `devices` are (instance, UDP port), last the probe."""
    flows = folder / "flows"
    (flows / "blueprints").mkdir(parents=True, exist_ok=True)
    for name in ("vav_zone_pid.yaml", "sat_reset.yaml", "fan_start_stop.yaml"):
        (flows / "blueprints" / name).write_text((REPO / "blueprints" / name).read_text())
    for name, text in flow_files(scale, devices[0][0]).items():
        (flows / name).write_text(text)
    (folder / "secrets.yaml").write_text(
        f"dashboard_password: {DASHBOARD_PASSWORD}\noperator_password: {OPERATOR_PASSWORD}\n"
    )
    bacnet = [f"      - {{instance: {i}, address: '{HOST}:{port}'}}" for i, port in devices[:-1]]
    probe, probe_port = devices[-1]
    bacnet.append(f"      - {{instance: {probe}, address: '{HOST}:{probe_port}', cov: unconfirmed}}")
    meters = [
        f"      meter-{n + 1}: {{host: {HOST}, port: {port}, unit: {n % 5 + 1}, profile: energy_meter, "
        f"poll_interval: {scale.poll_interval:g}}}"
        for n, port in enumerate(modbus)
    ]
    config = f"""\
log_level: warning
http: {{host: {HOST}, port: 8080}}  # the command line gives the port
identity: {{org_id: {IDENTITY[0]}, site_id: {IDENTITY[1]}, iot_device_id: {IDENTITY[2]}}}
auth: {{hash_time_cost: 1, hash_memory_kib: 8192}}
polling: {{max_backoff: 30}}
mqtt:
  users:
    - username: {DASHBOARD}
      password: !secret dashboard_password
      subscribe: ["iot/global/#"]
    - username: {OPERATOR}
      password: !secret operator_password
      publish: ["iot/global/+/+/+/command/#"]
      subscribe: ["iot/global/+/+/+/command/#"]
flows: {{directories: [flows]}}
bridge: {{enabled: true, host: {HOST}, port: {mqtt}, backoff_initial: 1, backoff_max: 5}}
integrations:
  bacnet:
    address: {HOST}/32
    timeout: 10
    port: {free_port(socket.SOCK_DGRAM)}
    poll_interval: {scale.poll_interval:g}
    devices:
{chr(10).join(bacnet)}
  modbus:
    devices:
{chr(10).join(meters)}
"""
    path = folder / "hub.yaml"
    path.write_text(config)
    return path


class HubProcess:
    """`python -m hub run` in a subprocess: start, stop, kill -9, and what /proc says about it."""

    def __init__(self, config: Path, data: Path) -> None:
        self.config, self.data = config, data
        self.log = config.parent / "hub.log"
        self.port = 0
        self.process: asyncio.subprocess.Process | None = None
        self.started_at = 0.0  # monotonic
        self.clock_ticks = os.sysconf("SC_CLK_TCK")

    async def start(self) -> None:
        """Start on a free port (kept across restarts, so clients reconnect to the same URL)."""
        self.port = self.port or free_port()
        self.started_at = time.monotonic()
        env = {**os.environ, "BMS_HUB_ADMIN_PASSWORD": ADMIN_PASSWORD, "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hub", "run", "--config", str(self.config),
                "--data-dir", str(self.data), "--port", str(self.port),
                stdout=out, stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL,
                cwd=REPO, env=env,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def stop(self) -> None:
        """SIGTERM and wait for the orderly stop (it flushes the store); SIGKILL if it hangs."""
        if not self.running():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), _STOP_S)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def kill(self) -> None:
        """kill -9, as a power cut or the OOM killer would."""
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.clock_ticks  # utime + stime

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def database_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.data.glob("hub.db*") if p.is_file())

    def log_tail(self, size: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-size:]


class Api:
    """The hub's HTTP API with an admin token (made once through a session login)."""

    def __init__(self, hub: HubProcess) -> None:
        self.hub = hub
        self.token = ""
        self._http: aiohttp.ClientSession | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.hub.port}"

    async def __aenter__(self) -> "Api":
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=60), cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._http is not None
        await self._http.close()

    async def health(self) -> dict | None:
        """/api/health (200 or 503), None while the hub does not answer."""
        assert self._http is not None
        try:
            async with self._http.get(
                f"{self.base}/api/health", timeout=aiohttp.ClientTimeout(total=10)
            ) as r:
                return await r.json()
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError):
            return None

    async def wait_health(self, within: float) -> dict:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if not self.hub.running():
                raise RuntimeError(f"the hub exited:\n{self.hub.log_tail()}")
            body = await self.health()
            if body is not None:
                return body
            await asyncio.sleep(0.5)
        raise RuntimeError(f"the hub did not answer /api/health within {within:g} s:\n{self.hub.log_tail()}")

    async def login(self) -> None:
        """A session for the admin, then an API token made with it."""
        assert self._http is not None
        async with self._http.post(
            f"{self.base}/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD}
        ) as r:
            if r.status != 200:
                raise RuntimeError(f"login failed: {r.status} {await r.text()}")
            csrf = (await r.json())["csrf_token"]
        async with self._http.post(
            f"{self.base}/api/tokens", json={"name": f"bench-{time.time():.0f}", "role": "admin"},
            headers={"X-CSRF-Token": csrf},
        ) as r:  # fmt: skip
            if r.status != 201:
                raise RuntimeError(f"token failed: {r.status} {await r.text()}")
            self.token = (await r.json())["token"]

    async def call(self, method: str, path: str, body: dict | None = None, **params: str) -> dict:
        assert self._http is not None
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self._http.request(
            method, f"{self.base}{path}", json=body, params=params, headers=headers
        ) as r:
            if r.status >= 300:
                raise RuntimeError(f"{method} {path}: {r.status} {await r.text()}")
            return await r.json()

    async def metrics(self) -> dict[str, float]:
        """The /metrics samples without labels, plus labelled ones as `name{labels}` ({} if no answer)."""
        assert self._http is not None
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with self._http.get(f"{self.base}/metrics", headers=headers) as r:
                text = await r.text()
        except (aiohttp.ClientError, TimeoutError):
            return {}
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                try:
                    out[name] = float(value)
                except ValueError:
                    continue
        return out

    async def samples(self, point_ids: list[str], start: float, end: float) -> dict[str, list[list]]:
        """Raw stored rows ([t ms, value, quality]) of each point between two epoch times."""
        out: dict[str, list[list]] = {}
        for first in range(0, len(point_ids), 200):
            body = await self.call(
                "GET", "/api/data/timeseries", points=",".join(point_ids[first : first + 200]),
                **{"from": str(int(start * 1000)), "to": str(int(end * 1000))},
            )  # fmt: skip
            out.update({series["point_id"]: series["rows"] for series in body["series"]})
        return out
