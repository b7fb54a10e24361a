"""The whole simulated site around one hub process: start every part, wait until it is polled, stop it all.

Parts, each a separate process: Mosquitto (tests/mosquitto.py, the bridge's upstream broker), the
BACnet device processes (bench/site_devices.py, `devices_per_process` devices each on consecutive
loopback ports), Modbus gateways (`python -m integrations.modbus`, five energy meters each, one
pymodbus server per gateway), the hub (bench/site_hub.py), and the MQTT clients
(bench/site_clients.py: the subscribers and the external BMS). The probe device lives in the
bench's own process (bench/site_probe.py). Everything is stopped (and killed if it hangs) on exit.
"""

import asyncio
import contextlib
import json
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

import site_hub
from bacpypes3.app import Application
from site_devices import scanned
from site_hub import HOST, PROBE_INSTANCE, Api, HubProcess, Scale
from site_probe import probe_device

from integrations.bacnet.cache import DeviceCache
from tests.mosquitto import Mosquitto

BENCH = Path(__file__).resolve().parent
FIRST_INSTANCE = 5001
METERS_PER_GATEWAY = 5
READY_TIMEOUT_S = 300.0
BMS_POINTS = 10


def keep_log(folder: Path, destination: Path | None) -> None:
    """Copy the hub's log out of the site's temporary folder (before it is deleted)."""
    if destination is not None and (folder / "hub.log").exists():
        shutil.copyfile(folder / "hub.log", destination)


class Child:
    """A helper process whose standard output is read line by line (readiness, answers, figures)."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name, self.process = name, process
        self.lines: asyncio.Queue[str] = asyncio.Queue()
        self.last = ""
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, name: str, log: Path, *args: str) -> "Child":
        """Start it; its standard error goes to `log`."""
        with log.open("ab") as errors:
            process = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=errors,
                cwd=BENCH.parent,
            )
        return cls(name, process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.last = line.decode().strip()
            self.lines.put_nowait(self.last)

    async def expect(self, prefix: str, within: float) -> str:
        """The next line starting with `prefix`; lines before it are skipped."""
        async with asyncio.timeout(within):
            while True:
                if self.process.returncode is not None and self.lines.empty():
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
                line = await self.lines.get()
                if line.startswith(prefix):
                    return line

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        try:
            await asyncio.wait_for(self._reader, 5)  # its last lines
        except TimeoutError:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)


class Site:
    """Every part of the site, started in order by `async with`, stopped in reverse."""

    def __init__(self, folder: Path, scale: Scale) -> None:
        self.folder, self.scale = folder, scale
        self.mosquitto = Mosquitto(folder / "mosquitto")
        self.devices: list[Child] = []  # BACnet device processes
        self.by_instance: dict[int, Child] = {}
        self.gateways: list[Child] = []
        self.clients: Child | None = None
        self.hub: HubProcess | None = None
        self.api: Api | None = None
        self.probe: Application | None = None
        self.probe_input = None
        self.bms: dict = {}
        self.ready_s: float | None = None  # from the hub's start until every device was polled
        self._stack = contextlib.AsyncExitStack()

    @property
    def instances(self) -> list[int]:
        return [FIRST_INSTANCE + n for n in range(self.scale.bacnet_devices)]

    @property
    def expected_devices(self) -> int:
        """Devices the hub polls: BACnet, the probe and the Modbus meters."""
        return self.scale.bacnet_devices + 1 + self.scale.modbus_devices

    async def __aenter__(self) -> "Site":
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        scale = self.scale
        await self.mosquitto.start()
        self._stack.push_async_callback(self.mosquitto.stop)
        ports = site_hub.free_udp_range(scale.bacnet_devices + 1)
        devices = [(i, ports + n) for n, i in enumerate(self.instances)]
        await self._start_devices(devices)
        self.probe, self.probe_input = await probe_device(ports + scale.bacnet_devices)
        self._stack.callback(self.probe.close)
        meters = await self._start_gateways()
        config = site_hub.write_site(
            self.folder, scale, [*devices, (PROBE_INSTANCE, ports + scale.bacnet_devices)], meters,
            self.mosquitto.port,
        )  # fmt: skip
        self.hub = HubProcess(config, self.folder / "data")
        self._seed_scans(devices)
        await self.hub.start()
        self._stack.push_async_callback(self.hub.stop)
        self.api = await self._stack.enter_async_context(Api(self.hub))
        await self.api.wait_health(120)
        self.ready_s = await self.wait_polled()
        await self.api.login()
        await self._create_bms()
        await self.start_clients()

    def _seed_scans(self, devices: list[tuple[int, int]]) -> None:
        """Put the devices' scans in the BACnet integration's cache, as on a site commissioned earlier.

        The hub then registers them at once, as after any restart; only the probe is scanned. (A first
        start that scans 100 devices x 100 objects at once does not converge on a busy 2-core machine.)
        """
        scale = self.scale
        cache = DeviceCache(self.folder / "data" / "integrations" / "bacnet")
        for instance, port in devices:
            cache.devices[instance] = scanned(
                instance, f"{HOST}:{port}", scale.analog_inputs, scale.analog_values, scale.binary_values
            )
        cache.put(cache.devices[devices[-1][0]])  # writes the file once, with every device

    async def _start_devices(self, devices: list[tuple[int, int]]) -> None:
        scale = self.scale
        per = scale.devices_per_process
        for first in range(0, len(devices), per):
            group = devices[first : first + per]
            child = await Child.start(
                f"BACnet devices {group[0][0]}-{group[-1][0]}", self.folder / "devices.log",
                sys.executable, str(BENCH / "site_devices.py"),
                "--port", str(group[0][1]), "--instance", str(group[0][0]), "--count", str(len(group)),
                "--period", str(scale.period), "--analog-inputs", str(scale.analog_inputs),
                "--analog-values", str(scale.analog_values), "--binary-values", str(scale.binary_values),
            )  # fmt: skip
            self._stack.push_async_callback(child.stop)
            self.devices.append(child)
            for instance, _ in group:
                self.by_instance[instance] = child
        for child in self.devices:  # they start in parallel; 100 objects a device take a moment
            for _ in range(sum(1 for c in self.by_instance.values() if c is child)):
                await child.expect("READY", 300)

    async def _start_gateways(self) -> list[int]:
        """One simulated gateway per five meters; each meter's gateway port."""
        ports = []
        for first in range(0, self.scale.modbus_devices, METERS_PER_GATEWAY):
            units = min(METERS_PER_GATEWAY, self.scale.modbus_devices - first)
            child = await Child.start(
                "Modbus gateway", self.folder / "modbus.log", sys.executable, "-m", "integrations.modbus",
                "--host", HOST, "--port", "0", "--profile", "energy_meter", "--unit", f"1-{units}",
            )  # fmt: skip
            self._stack.push_async_callback(child.stop)
            self.gateways.append(child)
            line = await child.expect("listening on", 60)
            ports += [int(line.split()[2].rsplit(":", 1)[1])] * units
        return ports

    async def _create_bms(self) -> None:
        """The external BMS connection, over REST, with its points mapped to new hub points."""
        assert self.api is not None
        created = await self.api.call(
            "POST",
            "/api/bms/connections",
            {"name": "Tower A", "bms_type": "generic", "transport": "websocket"},
        )
        self.bms = {"id": created["id"], **created["credentials"]}
        for n in range(1, BMS_POINTS + 1):
            await self.api.call(
                "POST", f"/api/bms/connections/{created['id']}/mappings",
                {"external_id": f"AHU{n}/SupplyTemp", "new_point": {"name": f"ahu{n}_t", "units": "degC"}},
            )  # fmt: skip

    async def start_clients(self) -> None:
        assert self.hub is not None
        devices = ",".join(str(i) for i in self.instances)
        self.clients = await Child.start(
            "MQTT clients", self.folder / "clients.log", sys.executable, str(BENCH / "site_clients.py"),
            "--port", str(self.hub.port),
            "--subscribers", str(self.scale.subscribers), "--devices", devices,
            "--bms-username", self.bms["username"], "--bms-password", self.bms["password"],
            "--bms-topic", self.bms["topic"], "--bms-rate", str(self.scale.bms_rate),
            "--bms-points", str(BMS_POINTS),
        )  # fmt: skip
        self._stack.push_async_callback(self.clients.stop)

    async def device(self, verb: str, instance: int) -> None:
        """`stop` or `start` one simulated BACnet device (its process answers once it is done)."""
        child = self.by_instance[instance]
        child.send(f"{verb} {instance}")
        await child.expect(f"{verb}{'ped' if verb == 'stop' else 'ed'} {instance}", 120)

    def client_figures(self) -> dict:
        """The clients' latest report line."""
        assert self.clients is not None
        return json.loads(self.clients.last) if self.clients.last.startswith("{") else {}

    async def committed_after(self, moment: float, within: float = 60.0) -> None:
        """Until the store has committed after `moment` (epoch s): what was read by then is in the history."""
        assert self.api is not None
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            body = await self.api.health() or {}
            last = body.get("components", {}).get("store", {}).get("last_commit")
            if last and datetime.fromisoformat(last.replace("Z", "+00:00")).timestamp() > moment:
                return
            await asyncio.sleep(0.5)

    async def poller(self) -> dict:
        """The poller component of /api/health ({} while the hub does not answer)."""
        assert self.api is not None
        body = await self.api.health() or {}
        return next((c for c in body.get("components", {}).values() if "lateness_ms" in c), {})

    async def wait_polled(self, within: float = READY_TIMEOUT_S) -> float | None:
        """Until every device is online and was polled: the seconds it took, None if not within `within`."""
        began = time.monotonic()
        deadline = began + within
        poller: dict = {}
        while time.monotonic() < deadline:
            assert self.hub is not None
            if not self.hub.running():
                raise RuntimeError(f"the hub exited:\n{self.hub.log_tail()}")
            poller = await self.poller()
            online = poller.get("devices_online", 0)
            if online >= self.expected_devices and poller.get("cycles", 0) >= self.expected_devices:
                return time.monotonic() - began
            await asyncio.sleep(1)
        online = poller.get("devices_online", 0)
        print(
            f"not every device online after {within:g} s: {online} of {self.expected_devices}",
            file=sys.stderr,
        )
        return None
