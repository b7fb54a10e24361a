"""Devices users add to monitoring from a discovery result: kept in the database, applied live.

A commissioning engineer scans, then adds a found device (all its points or some) without editing
YAML or restarting: the service stores it (with the descriptor discovery found) and hands it to
its integration's `monitor()`, which registers it so the poller polls it at once. At every start
the integration gets its stored devices as `ctx.monitored`. Removing undoes both. The config stays
authoritative: a device the hub already monitors from the config is refused, with the reason.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from hub.discovery import DiscoveryOperation
from hub.integration import DiscoveredDevice, Integration, MonitoringIntegration
from hub.points import PointRegistry

_LOGGER = logging.getLogger(__name__)


class MonitoringEvent(StrEnum):
    """Kinds of the events (activity and audit log) a change of monitoring records."""

    ADDED = "monitoring.added"
    REMOVED = "monitoring.removed"


@dataclass(frozen=True)
class MonitoredDevice:
    """A device a user added from discovery: what was found (only the chosen points), who added it."""

    found: DiscoveredDevice
    all_points: bool  # the user chose "all" (rather than some of the points)
    operation_id: str  # the discovery operation it came from
    added_by: str
    added_at: float  # UTC epoch seconds

    @property
    def id(self) -> str:
        return self.found.device.id

    @property
    def domain(self) -> str:
        return self.found.device.domain


class MonitoringError(Exception):
    """A change of monitoring cannot be made; the message says why."""


class NotMonitorable(MonitoringError):
    """The device cannot be added (already monitored, in the config, an integration that cannot)."""


class NotMonitored(MonitoringError):
    """The device is not one a user added (it may be in the config)."""


class NotFound(MonitoringError):
    """No kept discovery result holds the device."""


class BadPoints(MonitoringError):
    """The chosen points are not the device's (or none was chosen)."""


class MonitoringFailed(MonitoringError):
    """The integration raised while applying the change; nothing was kept."""


class MonitoredDevices(Protocol):
    """Where added devices survive a restart (hub.monitoring_store in the hub's database)."""

    async def load(self) -> list[MonitoredDevice]: ...

    async def add(self, device: MonitoredDevice) -> None: ...

    async def remove(self, device: MonitoredDevice, actor: str, now: float) -> None: ...


class MonitoringService:
    """Adds and removes discovered devices, one change at a time, through their integrations."""

    def __init__(
        self,
        store: MonitoredDevices,
        integrations: Callable[[str], Integration | None],
        points: PointRegistry,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._integrations = integrations
        self._points = points
        self._clock = clock
        self._devices: dict[str, MonitoredDevice] = {}
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        """Read the stored devices (before the integrations start: they get them as `ctx.monitored`)."""
        self._devices = {device.id: device for device in await self._store.load()}

    def devices(self) -> list[MonitoredDevice]:
        """Every added device, oldest first."""
        return list(self._devices.values())

    def get(self, device_id: str) -> MonitoredDevice | None:
        return self._devices.get(device_id)

    def for_domain(self, domain: str) -> tuple[DiscoveredDevice, ...]:
        """What an integration registers at start: its added devices with their chosen points."""
        return tuple(device.found for device in self._devices.values() if device.domain == domain)

    def problem(self, found: DiscoveredDevice) -> str | None:
        """Why `found` cannot be added to monitoring now; None when it can."""
        device = found.device
        added = self._devices.get(device.id)
        if added is not None:
            return f"device {device.id} is already in monitoring (added by {added.added_by})"
        if any(known.id == device.id for known in self._points.devices()):
            return f"device {device.id} is already monitored (from the {device.domain} integration's config)"
        integration = self._integrations(device.domain)
        if integration is None:
            return f"the {device.domain} integration is not loaded"
        if not isinstance(integration, MonitoringIntegration):
            return (
                f"the {device.domain} integration cannot add discovered devices: "
                f"add it to integrations.{device.domain} in the config"
            )
        return integration.monitor_problem(found)

    async def add(
        self, found: DiscoveredDevice, point_ids: Sequence[str] | None, operation_id: str, actor: str
    ) -> MonitoredDevice:
        """Store the device with the chosen points (None: all) and have its integration poll it now."""
        async with self._lock:
            problem = self.problem(found)
            if problem is not None:
                raise NotMonitorable(problem)
            chosen = _chosen(found, point_ids)
            device = MonitoredDevice(chosen, point_ids is None, operation_id, actor, self._clock())
            integration = self._integrations(device.domain)
            assert isinstance(integration, MonitoringIntegration)  # problem() said so
            try:
                await integration.monitor(chosen)
            except Exception as err:
                self._forget_points(device.id)
                raise MonitoringFailed(f"the {device.domain} integration could not add it: {err}") from err
            try:
                await self._store.add(device)
            except BaseException:
                self._forget_points(device.id)
                await integration.unmonitor(device.id)
                raise
            self._devices[device.id] = device
        _LOGGER.info("%s added device %s (%d points) to monitoring", actor, device.id, len(chosen.points))
        return device

    async def remove(self, device_id: str, actor: str) -> MonitoredDevice:
        """Stop monitoring a device a user added: forget it, its points, and the stored entry."""
        async with self._lock:
            device = self._devices.get(device_id)
            if device is None:
                if any(known.id == device_id for known in self._points.devices()):
                    raise NotMonitored(
                        f"device {device_id} is in the config, not added from discovery: remove it there"
                    )
                raise NotMonitored(f"device {device_id} is not in monitoring")
            await self._store.remove(device, actor, self._clock())
            del self._devices[device_id]
            self._forget_points(device_id)
            integration = self._integrations(device.domain)
            if isinstance(integration, MonitoringIntegration):
                await integration.unmonitor(device_id)
        _LOGGER.info("%s removed device %s from monitoring", actor, device_id)
        return device

    def _forget_points(self, device_id: str) -> None:
        if any(known.id == device_id for known in self._points.devices()):
            self._points.remove_device(device_id)


def find_discovered(
    operations: Sequence[DiscoveryOperation], device_id: str, operation_id: str | None = None
) -> tuple[DiscoveredDevice, str]:
    """The device as the newest operation (or the named one) found it, and that operation's id."""
    for operation in operations:
        if operation_id is not None and operation.id != operation_id:
            continue
        for found in operation.devices:
            if found.device.id == device_id:
                return found, operation.id
    where = f"discovery operation {operation_id}" if operation_id else "any kept discovery result"
    raise NotFound(f"device {device_id!r} is not in {where}: scan for it first")


def _chosen(found: DiscoveredDevice, point_ids: Sequence[str] | None) -> DiscoveredDevice:
    """`found` with only the chosen points (None: all of them)."""
    if point_ids is None:
        return found
    if not point_ids:
        raise BadPoints("points: choose at least one point (or leave the field out for all)")
    offered = {point.id for point in found.points}
    unknown = [point_id for point_id in point_ids if point_id not in offered]
    if unknown:
        raise BadPoints(f"points: not points of device {found.device.id}: {', '.join(map(repr, unknown))}")
    wanted = set(point_ids)
    return replace(found, points=tuple(point for point in found.points if point.id in wanted))
