"""The simulator as a hub integration: wall time becomes simulated time, and reads answer from the model.

Simulated time is `(clock() - started) * time_scale` seconds since the scenario started. The model
only moves when asked (a read, a write, health) and by a supervised ticker once a second, so no
single call has to catch up on much simulated time.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence

from hub.health import ComponentHealth, HealthStatus
from hub.integration import (
    DiscoveredDevice,
    DiscoveryEvent,
    DiscoveryProgress,
    DiscoveryRequest,
    IntegrationContext,
    PrioritySlots,
)
from hub.points import Point, Sample, Value

from .durations import format_duration
from .history import History
from .simulation import Simulation

TICK_S = 1.0


class SimulatorIntegration:
    """Serves a Simulation to the hub: registers its devices, answers reads and writes, reports health."""

    batch_size = 50

    def __init__(
        self,
        ctx: IntegrationContext,
        simulation: Simulation,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ctx = ctx
        self.simulation = simulation
        self.time_scale = time_scale
        self._clock = clock
        self._started = clock()

    @property
    def history(self) -> History:
        """Every sample given out recently, with its simulated time: the evidence of what the hub saw."""
        return self.simulation.history

    def sim_time(self) -> float:
        """Seconds of simulated time since the scenario started, by the clock."""
        return max(0.0, (self._clock() - self._started) * self.time_scale)

    async def start(self) -> None:
        """Start the scenario clock and register every simulated device and its points."""
        self._started = self._clock()
        for found in self.simulation.devices:
            self._ctx.add_device(found.device, found.points)
        self._ctx.spawn("clock", self._tick)
        self._ctx.logger.info(
            "simulating %s (seed %d, time x%g): %d devices",
            self.simulation.scenario.name,
            self.simulation.seed,
            self.time_scale,
            len(self.simulation.devices),
        )

    async def stop(self) -> None:
        """Nothing to close: the context stops the ticker and removes the devices."""

    async def discover(self, request: DiscoveryRequest) -> AsyncIterator[DiscoveryEvent]:
        """Report every device that answers; a slow one answers after its delay, if within the timeout."""
        self._advance()
        simulation = self.simulation
        answering = [d for d in simulation.devices if d.device.id not in simulation.offline]
        answering.sort(key=lambda found: simulation.slow.get(found.device.id, 0.0))
        total = len(simulation.devices)
        yield DiscoveryProgress(0.0, message=f"looking for {total} simulated devices")
        loop = asyncio.get_running_loop()
        began = loop.time()
        reported = 0
        for found in answering:
            delay = simulation.slow.get(found.device.id, 0.0)
            if delay > request.timeout:
                break
            wait = began + delay - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            reported += 1
            yield DiscoveredDevice(found.device, found.points)
            yield DiscoveryProgress(100.0 * reported / total, current=found.device.id)
        missing = total - reported
        yield DiscoveryProgress(100.0, message=f"{reported} devices found, {missing} did not answer")

    async def read(self, points: Sequence[Point]) -> Mapping[str, Sample]:
        """The points' values at the current simulated time; DeviceError if their device is offline."""
        delay = self.simulation.slow.get(points[0].device_id) if points else None
        if delay:
            await asyncio.sleep(delay)
        self._advance()
        return self.simulation.read(points, self._clock())

    async def write(self, point: Point, value: Value, priority: int) -> None:
        """Command the point at `priority` now (None relinquishes); WriteError says why a write is refused."""
        delay = self.simulation.slow.get(point.device_id)
        if delay:
            await asyncio.sleep(delay)
        self._advance()
        self.simulation.write(point, value, priority)

    async def priority_array(self, point_id: str) -> PrioritySlots | None:
        """Who holds which command slot of a simulated point now (None: a read-only point)."""
        self._advance()
        return self.simulation.priority_array(point_id)

    def health(self) -> ComponentHealth:
        """OK (the faults are the scenario's), with where the scenario stands and what it has broken."""
        self._advance()
        simulation = self.simulation
        return ComponentHealth(
            HealthStatus.OK,
            {
                "scenario": simulation.scenario.name,
                "seed": simulation.seed,
                "time_scale": self.time_scale,
                "sim_time": format_duration(simulation.time),
                "sim_time_s": simulation.time,
                "devices": len(simulation.devices),
                "points": len(simulation.points),
                "failed_sensors": sorted(simulation.failed),
                "offline_devices": sorted(simulation.offline),
                "slow_devices": dict(sorted(simulation.slow.items())),
                "steps_pending": simulation.pending_steps,
                "history": len(simulation.history),
            },
        )

    def _advance(self) -> None:
        self.simulation.advance_to(self.sim_time())

    async def _tick(self) -> None:
        """Keep the model close to the clock so a read after a quiet spell has little to catch up."""
        while True:
            self._advance()
            await asyncio.sleep(TICK_S)
