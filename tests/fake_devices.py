"""A test double of our own plugin API: an `hub.integration.Integration` over in-memory devices.

This is not a mock of a library. It implements the Integration protocol the way a real integration
would, over a table of FakeDevice objects whose behaviour each test controls: values (fixed or a
script of successive reads), a device that hangs until released (or until the caller's timeout),
one that raises DeviceError or another exception on its next reads, write refusal through
WriteError, and a 16-slot BACnet-style priority array per written point. Every read() call is
recorded in `calls` (an asyncio.Queue tests wait on) and `history`.
"""

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from hub.health import ComponentHealth, HealthStatus
from hub.integration import DiscoveredDevice, DiscoveryEvent, DiscoveryProgress, DiscoveryRequest, WriteError
from hub.points import Device, Point, PointRegistry, Quality, Sample, Value

PRIORITIES = 16


@dataclass(frozen=True)
class ReadCall:
    """One read() call: which device and points, and when it was entered (event-loop time)."""

    device_id: str
    point_ids: tuple[str, ...]
    at: float


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeDevice:
    """One device's behaviour, set by the test."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.values: dict[str, Value] = {}  # a point's value, or its relinquish default when written
        self.scripts: dict[str, deque[Value]] = {}  # successive reads; the last value repeats
        self.failures: deque[BaseException] = deque()  # raised by the next reads, one each
        self.write_error: str | None = None  # writes raise WriteError(write_error)
        self.priority_arrays: dict[str, list[Value]] = {}
        self.hang_entered = asyncio.Event()
        self._released: asyncio.Event | None = None

    def hang(self) -> None:
        """Make reads and writes wait until release() (or until the caller gives up)."""
        self.hang_entered.clear()
        self._released = asyncio.Event()

    def release(self) -> None:
        """Let hanging calls (and later ones) through."""
        if self._released is not None:
            self._released.set()
            self._released = None

    def fail(self, times: int, error: BaseException) -> None:
        """Raise `error` from the next `times` reads."""
        self.failures.extend(error for _ in range(times))

    def script(self, point_id: str, values: Iterable[Value]) -> None:
        """Return these values from successive reads of the point (the last one repeats)."""
        self.scripts[point_id] = deque(values)

    def priority_array(self, point_id: str) -> list[Value]:
        """The point's 16 slots (index 0 = priority 1), created empty on first use."""
        return self.priority_arrays.setdefault(point_id, [None] * PRIORITIES)

    def value(self, point_id: str) -> Value:
        """The value a read returns now: the highest-priority slot, else the script, else the plain value."""
        for slot in self.priority_arrays.get(point_id, ()):
            if slot is not None:
                return slot
        script = self.scripts.get(point_id)
        if script:
            return script.popleft() if len(script) > 1 else script[0]
        return self.values.get(point_id)

    async def wait_if_hanging(self) -> None:
        released = self._released
        if released is not None:
            self.hang_entered.set()
            await released.wait()


class FakeIntegration:
    """Integration protocol over FakeDevice objects; `add_device` registers in the real PointRegistry."""

    def __init__(
        self,
        registry: PointRegistry,
        domain: str = "fake",
        batch_size: int = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry
        self.domain = domain
        self.batch_size = batch_size
        self.clock = clock
        self.devices: dict[str, FakeDevice] = {}
        self.calls: asyncio.Queue[ReadCall] = asyncio.Queue()
        self.history: list[ReadCall] = []
        self.writes: list[tuple[str, Value, int]] = []
        self.started = False

    def add_device(self, device: Device, points: Sequence[Point], value: Value = 0.0) -> FakeDevice:
        """Register `device` with `points` (each reading `value` until the test says otherwise)."""
        fake = self.devices.setdefault(device.id, FakeDevice(device))
        for point in points:
            fake.values.setdefault(point.id, value)
        self.registry.add_device(device, points)
        return fake

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    async def discover(self, request: DiscoveryRequest) -> AsyncIterator[DiscoveryEvent]:
        """Report every device in the table."""
        for index, fake in enumerate(self.devices.values(), start=1):
            points = tuple(self.registry.points(fake.device.id))
            yield DiscoveredDevice(fake.device, points)
            yield DiscoveryProgress(100.0 * index / len(self.devices), fake.device.id)

    async def read(self, points: Sequence[Point]) -> Mapping[str, Sample]:
        fake = self.devices[points[0].device_id]
        call = ReadCall(fake.device.id, tuple(p.id for p in points), asyncio.get_running_loop().time())
        self.history.append(call)
        self.calls.put_nowait(call)
        if fake.failures:
            raise fake.failures.popleft()
        await fake.wait_if_hanging()
        now = self.clock()
        samples = {}
        for point in points:
            value = fake.value(point.id)
            if value is not None:
                samples[point.id] = Sample(value, now, Quality.GOOD)
        return samples

    async def write(self, point: Point, value: Value, priority: int) -> None:
        fake = self.devices[point.device_id]
        await fake.wait_if_hanging()
        if fake.write_error is not None:
            raise WriteError(fake.write_error)
        self.writes.append((point.id, value, priority))
        fake.priority_array(point.id)[priority - 1] = value

    def health(self) -> ComponentHealth:
        return ComponentHealth(HealthStatus.OK, {"devices": len(self.devices)})


def analog_points(device_id: str, count: int, **changes: object) -> list[Point]:
    """`count` analog points "{device_id}.p{n}" with the given Point fields."""
    return [Point(f"{device_id}.p{n}", device_id, f"p{n}", **changes) for n in range(count)]  # type: ignore[arg-type]
