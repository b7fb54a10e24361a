"""Simulated BACnet devices in their own processes, and the integration on real hub parts.

Everything talks over real UDP sockets on loopback, each party on its own port (bacpypes3 takes any
127.x peer on its own port for itself). A device process prints a READY line once bound: the
fixtures wait for that line, never for a fixed time.
"""

import asyncio
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hub.bus import Bus
from hub.integration import IntegrationContext, detached_context
from hub.points import DeviceAdded, PointRegistry, Sample
from hub.supervisor import Supervisor
from integrations.bacnet import CONFIG_SCHEMA, async_setup
from integrations.bacnet.integration import BacnetIntegration

READY_S = 60.0  # bound on a device's start (1,000 objects take ~2 s); reached only when a test fails
WAIT_S = 20.0  # bound on waits for events; reached only when a test fails


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Member:
    """One device of a simulator process."""

    instance: int
    address: str


@dataclass
class SimulatedDevice:
    """A `bms-hub simulate bacnet` process: one device, or `count` devices on the next ports (or IPs)."""

    instance: int
    port: int
    args: tuple[str, ...]
    process: asyncio.subprocess.Process | None = None
    prefix: tuple[str, ...] = ()  # e.g. ("ip", "netns", "exec", NS)
    ip: str = "127.0.0.1"
    count: int = 1
    members: list[Member] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    async def start(self) -> None:
        """Run the process and wait for the READY line of each of its devices."""
        self.process = await asyncio.create_subprocess_exec(
            *self.prefix,
            sys.executable,
            "-m",
            "integrations.bacnet",
            "--address",
            f"{self.ip}/{32 if self.ip.startswith('127.') else 24}",
            "--port",
            str(self.port),
            "--instance",
            str(self.instance),
            "--count",
            str(self.count),
            "--step",
            "port" if self.ip.startswith("127.") else "ip",
            *self.args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.process.stdout is not None
        self.members = []
        for _ in range(self.count):
            async with asyncio.timeout(READY_S):
                line = (await self.process.stdout.readline()).decode()
            if not line.startswith("READY"):
                err = await self.process.stderr.read() if self.process.stderr else b""
                raise AssertionError(f"device {self.instance} did not start: {line!r} {err.decode()[-2000:]}")
            _, bound, _, instance, *_ = line.split()
            ip_prefix, _, port = bound.rpartition(":")
            self.members.append(Member(int(instance), f"{ip_prefix.split('/')[0]}:{port}"))

    async def kill(self) -> None:
        """Kill the process (a device that dies) and reap it."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


StartDevice = Callable[..., Awaitable[SimulatedDevice]]


@pytest.fixture
async def start_device() -> AsyncIterator[StartDevice]:
    """Start simulated devices (`start_device(instance, *simulator_args)`); all are killed afterwards."""
    devices: list[SimulatedDevice] = []

    async def start(instance: int, *args: str, port: int | None = None, **where: Any) -> SimulatedDevice:
        device = SimulatedDevice(instance, port or free_udp_port(), args, **where)
        devices.append(device)
        await device.start()
        return device

    yield start
    for device in devices:
        await device.kill()


@dataclass
class Built:
    """An integration under test, its registry, and every sample pushed through `ctx.report`."""

    integration: BacnetIntegration
    registry: PointRegistry
    ctx: IntegrationContext
    pushed: asyncio.Queue[tuple[str, Sample]] = field(default_factory=asyncio.Queue)

    async def device_added(self, device_id: str) -> None:
        """Wait until the device is registered (it may already be)."""
        if any(d.id == device_id for d in self.registry.devices()):
            return
        added = asyncio.Event()

        def seen(event: DeviceAdded) -> None:
            if event.device.id == device_id:
                added.set()

        unsubscribe = self.registry.bus.subscribe(DeviceAdded, seen)
        try:
            if not any(d.id == device_id for d in self.registry.devices()):
                async with asyncio.timeout(WAIT_S):
                    await added.wait()
        finally:
            unsubscribe()

    def points(self, device_id: str) -> list:
        return sorted(
            self.registry.points(device_id),
            key=lambda p: (p.address.split(":")[0], int(p.address.split(":")[1])),
        )


MakeIntegration = Callable[..., Awaitable[Built]]


@pytest.fixture
async def make_integration(tmp_path: Path) -> AsyncIterator[MakeIntegration]:
    """Set up and start the integration from raw config (validated by CONFIG_SCHEMA) on real hub parts."""
    started: list[tuple[Built, Supervisor]] = []

    async def make(
        config: dict[str, Any], devices: Sequence[SimulatedDevice] = (), data_dir: Path | None = None
    ) -> Built:
        raw = {"address": "127.0.0.1/32", "port": free_udp_port(), "timeout": 1.0, **config}
        if devices:
            raw["devices"] = [{"instance": d.instance, "address": d.address} for d in devices]
        registry = PointRegistry(Bus())
        supervisor = Supervisor()
        queue: asyncio.Queue[tuple[str, Sample]] = asyncio.Queue()

        def report(point_id: str, sample: Sample) -> None:
            queue.put_nowait((point_id, sample))
            registry.update(point_id, sample)

        ctx = detached_context("bacnet", registry, supervisor, data_dir or tmp_path, report)
        integration = await async_setup(ctx, CONFIG_SCHEMA(raw))
        built = Built(integration, registry, ctx, queue)
        started.append((built, supervisor))
        await integration.start()
        return built

    yield make
    for built, supervisor in started:
        await supervisor.stop()
        for cleanup in reversed(built.ctx._cleanups):
            result = cleanup()
            if result is not None:
                await result
