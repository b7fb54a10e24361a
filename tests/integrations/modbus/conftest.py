"""Fixtures: a simulated Modbus device in another process (`python -m integrations.modbus`), and the
integration built on real hub parts against it."""

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub.bus import Bus
from hub.integration import detached_context
from hub.points import PointRegistry
from hub.supervisor import Supervisor
from integrations.modbus.config import CONFIG_SCHEMA
from integrations.modbus.integration import ModbusIntegration
from tests.fake_devices import FakeClock

WAIT_S = 20.0  # bounds a wait for the simulator; reached only when something is broken


@dataclass
class Sim:
    """A running simulator process: where it listens, and its request counts."""

    process: asyncio.subprocess.Process
    port: int

    async def stats(self, command: str = "stats") -> dict[str, Any]:
        """The server's request counts (`reset` zeroes them and answers the counts before)."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()
        async with asyncio.timeout(WAIT_S):
            return json.loads(await self.process.stdout.readline())

    async def requests(self) -> int:
        """Requests received since the last call (the counter is reset)."""
        return (await self.stats("reset"))["requests"]

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            async with asyncio.timeout(WAIT_S):
                await self.process.wait()


StartSim = Callable[..., Awaitable[Sim]]


@pytest.fixture
async def start_sim() -> AsyncIterator[StartSim]:
    """Start simulators (`--port 0` unless given); each is stopped after the test."""
    started: list[Sim] = []

    async def start(*args: str, port: int = 0) -> Sim:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "integrations.modbus",
            "--port",
            str(port),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        async with asyncio.timeout(WAIT_S):
            line = (await process.stdout.readline()).decode()
        sim = Sim(process, 0)
        started.append(sim)
        assert line.startswith("listening on "), f"simulator did not start: {line!r}"
        sim.port = int(line.split()[2].rsplit(":", 1)[1])
        return sim

    yield start
    for sim in started:
        await sim.stop()


@dataclass
class Built:
    """An integration under test and the registry it registered its devices in."""

    integration: ModbusIntegration
    registry: PointRegistry

    def points(self, device_id: str) -> list:
        return list(self.registry.points(device_id))


MakeIntegration = Callable[[dict[str, Any]], Awaitable[Built]]


@pytest.fixture
def fake_monotonic() -> FakeClock:
    """The clock the integration's reconnect backoff reads: a test moves it past a backoff by hand."""
    return FakeClock(0.0)


@pytest.fixture
async def make_integration(tmp_path: Path, fake_monotonic: FakeClock) -> AsyncIterator[MakeIntegration]:
    """Validate a config with CONFIG_SCHEMA, build and start the integration on a real registry."""
    built: list[Built] = []
    supervisor = Supervisor()

    async def make(config: dict[str, Any]) -> Built:
        registry = PointRegistry(Bus())
        ctx = detached_context("modbus", registry, supervisor, tmp_path)
        result = Built(ModbusIntegration(ctx, CONFIG_SCHEMA(config), monotonic=fake_monotonic), registry)
        await result.integration.start()
        built.append(result)
        return result

    yield make
    for each in built:
        await each.integration.stop()
    await supervisor.stop()
