"""The Modbus integration: registers the configured devices, reads them in planned blocks, writes points.

A block the device refuses with an exception is read again point by point, so one bad point does
not spoil its neighbours. After a structural refusal (illegal address, value or function) the
points that fail alone are read alone from then on, and if all succeed alone the gap bridging was
the culprit and the device is planned without bridging. Gateway exceptions and timeouts mean the
device did not answer.
"""

import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence

from hub.health import ComponentHealth, HealthStatus
from hub.integration import (
    DeviceError,
    DiscoveredDevice,
    DiscoveryEvent,
    DiscoveryProgress,
    DiscoveryRequest,
    IntegrationContext,
    WriteError,
)
from hub.points import Device, Limits, Point, Quality, Sample, Value

from .codec import EncodeError, decode
from .config import ModbusConfig
from .connection import Connection
from .model import DOMAIN, DataType, ModbusDevice, RegisterPoint
from .planner import ReadRequest, plan_alone, plan_reads
from .requests import GATEWAY_CODES, STRUCTURAL_CODES, ExceptionAnswer, read_block, write_point
from .scan import scan_units


def hub_device(device: ModbusDevice) -> Device:
    return Device(
        device.id,
        device.name,
        DOMAIN,
        f"{device.host}:{device.port}/{device.unit}",
        poll_interval=device.poll_interval,
    )


def hub_point(device: ModbusDevice, point: RegisterPoint) -> Point:
    return Point(
        id=f"{device.id}.{point.name}",
        device_id=device.id,
        name=point.name,
        kind=point.kind,
        units=point.units,
        writable=point.writable,
        limits=Limits(point.minimum, point.maximum),
        address=point.location,
    )


class ModbusIntegration:
    """Serves the configured Modbus TCP devices to the hub: planned reads, encoded writes, discovery."""

    batch_size = 10_000  # a device's points in one read() call, so planning sees them all

    def __init__(
        self,
        ctx: IntegrationContext,
        config: ModbusConfig,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,  # what reconnect backoff is measured on
    ) -> None:
        self._ctx = ctx
        self._clock = clock
        self.devices = {device.id: device for device in config.devices}
        self._points = {
            f"{device.id}.{point.name}": point for device in config.devices for point in device.points
        }
        timeouts: dict[tuple[str, int], float] = {}
        for device in config.devices:
            timeouts[device.endpoint] = max(timeouts.get(device.endpoint, 0.0), device.timeout)
        self.connections = {
            endpoint: Connection(*endpoint, timeout, monotonic) for endpoint, timeout in timeouts.items()
        }
        self._alone: set[str] = set()  # point ids the device refuses in a block: read each alone
        self._no_bridging: set[str] = set()  # device ids whose gaps hold addresses they refuse

    async def start(self) -> None:
        """Register every configured device and its points; connections open on the first request."""
        for device in self.devices.values():
            self._ctx.add_device(hub_device(device), [hub_point(device, p) for p in device.points])
        self._ctx.logger.info("%d Modbus devices on %d connections", len(self.devices), len(self.connections))

    async def stop(self) -> None:
        for connection in self.connections.values():
            connection.close()

    def plan(self, device: ModbusDevice, points: Sequence[RegisterPoint]) -> list[ReadRequest]:
        """The requests one read of `points` makes, as learned so far."""
        alone = [p for p in points if f"{device.id}.{p.name}" in self._alone]
        rest = [p for p in points if f"{device.id}.{p.name}" not in self._alone]
        gap = 0 if device.id in self._no_bridging else device.max_gap
        return plan_reads(rest, gap) + plan_alone(alone)

    async def read(self, points: Sequence[Point]) -> Mapping[str, Sample]:
        """Read one device's points in the fewest requests; DeviceError when the device does not answer."""
        if not points:
            return {}
        device = self.devices[points[0].device_id]
        samples: dict[str, Sample] = {}
        for request in self.plan(device, [self._points[p.id] for p in points]):
            samples.update(await self._read_request(device, request))
        return samples

    async def _read_request(self, device: ModbusDevice, request: ReadRequest) -> dict[str, Sample]:
        try:
            values = await read_block(self.connections[device.endpoint], device, request)
        except ExceptionAnswer as err:
            if err.code in GATEWAY_CODES:
                raise DeviceError(f"unit {device.unit} at {device.host}:{device.port}: {err}") from err
            if len({(p.address, p.count) for p in request.points}) == 1:
                return {f"{device.id}.{p.name}": self._bad(str(err)) for p in request.points}
            return await self._read_alone(device, request, learn=err.code in STRUCTURAL_CODES)
        now = self._clock()
        return {
            f"{device.id}.{p.name}": Sample(decode_value(values[request.slice_of(p)], p), now)
            for p in request.points
        }

    async def _read_alone(self, device: ModbusDevice, request: ReadRequest, learn: bool) -> dict[str, Sample]:
        """Read a refused block's points one by one; a structural refusal also changes the next plan."""
        samples: dict[str, Sample] = {}
        for single in plan_alone(request.points):
            samples.update(await self._read_request(device, single))
        if not learn:
            return samples  # a failure or busy device may be gone next cycle: keep the plan
        failed = [point_id for point_id, sample in samples.items() if sample.quality == Quality.BAD]
        self._alone.update(failed)
        if not failed and device.id not in self._no_bridging:
            self._no_bridging.add(device.id)
            self._ctx.logger.warning(
                "%s refuses reads across gaps in its register map: not bridging", device.id
            )
        return samples

    def _bad(self, reason: str) -> Sample:
        return Sample(None, self._clock(), Quality.BAD, reason)

    async def write(self, point: Point, value: Value, priority: int) -> None:
        """Write with the point's encoding (Modbus has no priorities: `priority` is not sent)."""
        if value is None:
            raise WriteError("Modbus has no priorities: there is nothing to relinquish")
        device, register = self.devices[point.device_id], self._points[point.id]
        try:
            await write_point(self.connections[device.endpoint], device, register, value)
        except (EncodeError, ExceptionAnswer) as err:
            raise WriteError(f"{point.id}: {err}") from err

    async def discover(self, request: DiscoveryRequest) -> AsyncIterator[DiscoveryEvent]:
        """List the configured devices and their points; scan `request.addresses` for unit ids if given."""
        total = len(self.devices)
        yield DiscoveryProgress(0.0, message=f"{total} configured Modbus devices")
        for index, device in enumerate(self.devices.values(), 1):
            yield DiscoveredDevice(hub_device(device), tuple(hub_point(device, p) for p in device.points))
            yield DiscoveryProgress(
                100.0 * index / max(total, 1) if not request.addresses else 0.0, current=device.id
            )
        if request.addresses:
            async for event in scan_units(request):
                yield event

    def health(self) -> ComponentHealth:
        """OK, with each connection's state (a device that does not answer shows in its own status)."""
        return ComponentHealth(
            HealthStatus.OK,
            {
                "devices": len(self.devices),
                "connections": {
                    connection.name: {
                        "connected": connection.connected,
                        "requests": connection.requests,
                        "failures": connection.failures,
                        "last_error": connection.last_error,
                    }
                    for connection in self.connections.values()
                },
                "points_read_alone": len(self._alone),
            },
        )


def decode_value(values: list[int], point: RegisterPoint) -> Value:
    """A coil's bit, or the point's registers decoded."""
    return bool(values[0]) if point.type == DataType.BOOL else decode(values, point)
