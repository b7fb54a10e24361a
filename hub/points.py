"""Devices, points and samples: the protocol-agnostic model every integration fills in.

A point id is stable across restarts and protocols: BACnet `"{device_instance}.{objectType}.{instance}"`
(e.g. `12345.analogInput.1`), others `"{device}.{name}"`. The registry holds the latest sample
of every point and tells the bus about each change; history is the store's job.
"""

import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from hub.bus import Bus

_LOGGER = logging.getLogger(__name__)

Value = float | int | bool | str | None


class Quality(StrEnum):
    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"


class PointKind(StrEnum):
    ANALOG = "analog"
    BINARY = "binary"
    MULTISTATE = "multistate"
    STRING = "string"


class DeviceStatus(StrEnum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"
    ERROR = "error"


@dataclass(frozen=True)
class Limits:
    """What the one write path accepts for a point."""

    minimum: float | None = None
    maximum: float | None = None
    states: tuple[int, ...] | None = None  # allowed values of a multistate point

    def problem(self, value: Value) -> str | None:
        """Why `value` is refused, or None when it is within the limits."""
        if value is None:
            return None
        if self.states is not None and value not in self.states:
            return f"{value!r} is not one of the allowed states {list(self.states)}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if isinstance(value, float) and not math.isfinite(value):
            return f"{value!r} is not a finite number"
        if self.minimum is not None and value < self.minimum:
            return f"{value} is below the minimum {self.minimum}"
        if self.maximum is not None and value > self.maximum:
            return f"{value} is above the maximum {self.maximum}"
        return None


@dataclass(frozen=True)
class Device:
    """A field device (or a simulated one) owned by one integration."""

    id: str
    name: str
    domain: str  # the integration that owns it
    address: str = ""
    vendor: str = ""
    model: str = ""
    poll_interval: float = 5.0


@dataclass(frozen=True)
class Point:
    """One value of a device: what it is, where it comes from, and how it may be written."""

    id: str
    device_id: str
    name: str
    kind: PointKind = PointKind.ANALOG
    units: str = ""
    writable: bool = False
    limits: Limits = field(default_factory=Limits)
    poll_interval: float | None = None  # None: the device's interval
    cov_increment: float | None = None  # deadband for pushed or polled changes
    min_write_interval: float = 0.0  # rate limit: seconds between accepted writes
    address: str = ""  # protocol-specific location (object id, register, ...)


@dataclass(frozen=True)
class Sample:
    """A point's value at one moment; `reason` says why quality is not good."""

    value: Value
    timestamp: float  # UTC epoch seconds
    quality: Quality = Quality.GOOD
    reason: str | None = None


@dataclass(frozen=True)
class PointUpdate:
    """Published on the bus for every accepted sample."""

    point: Point
    sample: Sample
    previous: Sample | None


@dataclass(frozen=True)
class DeviceState:
    """What the hub knows about a device's health right now."""

    status: DeviceStatus = DeviceStatus.UNKNOWN
    last_seen: float | None = None
    error_count: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class DeviceStatusChanged:
    """Published on the bus when a device goes online, offline or into error."""

    device: Device
    state: DeviceState


@dataclass(frozen=True)
class DeviceAdded:
    """Published when a device is registered (again), after its points: pollers pick it up."""

    device: Device


@dataclass(frozen=True)
class PointAdded:
    """Published when a point is registered (again)."""

    point: Point


@dataclass(frozen=True)
class DomainRemoved:
    """Published after devices of an integration (all when it unloads) and their points were forgotten."""

    domain: str
    device_ids: tuple[str, ...]


class PointRegistry:
    """Devices, points, the latest sample of each point and each device's state."""

    def __init__(self, bus: Bus, clock: Callable[[], float] = time.time, stale_factor: float = 3.0) -> None:
        self._bus = bus
        self._clock = clock
        self.stale_factor = stale_factor
        self._devices: dict[str, Device] = {}
        self._device_states: dict[str, DeviceState] = {}
        self._points: dict[str, Point] = {}
        self._latest: dict[str, Sample] = {}

    @property
    def bus(self) -> Bus:
        """The bus this registry publishes on (services that follow registrations subscribe there)."""
        return self._bus

    # -- registration (tagged by domain so an integration's entries leave with it) ----------

    def add_device(self, device: Device, points: Iterable[Point] = ()) -> None:
        """Register a device and its points; ids must be unique across the hub."""
        known = self._devices.get(device.id)
        if known is not None and known.domain != device.domain:
            raise ValueError(f"device id {device.id!r} already belongs to {known.domain!r}")
        self._devices[device.id] = device
        self._device_states.setdefault(device.id, DeviceState())
        for point in points:
            self.add_point(point)
        self._bus.publish(DeviceAdded(device))

    def add_point(self, point: Point) -> None:
        """Register a point of a known device."""
        if point.device_id not in self._devices:
            raise ValueError(f"point {point.id!r} refers to unknown device {point.device_id!r}")
        self._points[point.id] = point
        self._bus.publish(PointAdded(point))

    def remove_domain(self, domain: str) -> None:
        """Forget every device and point an integration registered (it is unloading)."""
        self._forget(domain, {d.id for d in self._devices.values() if d.domain == domain})

    def remove_device(self, device_id: str) -> None:
        """Forget one device and its points (a user stopped monitoring it); its polling stops."""
        self._forget(self._devices[device_id].domain, {device_id})

    def _forget(self, domain: str, gone: set[str]) -> None:
        for point_id in [p.id for p in self._points.values() if p.device_id in gone]:
            del self._points[point_id]
            self._latest.pop(point_id, None)
        for device_id in gone:
            del self._devices[device_id]
            self._device_states.pop(device_id, None)
        if gone:
            self._bus.publish(DomainRemoved(domain, tuple(sorted(gone))))

    # -- lookups ------------------------------------------------------------------------

    def device(self, device_id: str) -> Device:
        return self._devices[device_id]

    def point(self, point_id: str) -> Point:
        return self._points[point_id]

    def devices(self) -> Iterator[Device]:
        return iter(self._devices.values())

    def points(self, device_id: str | None = None) -> Iterator[Point]:
        """All points, or those of one device."""
        if device_id is None:
            return iter(self._points.values())
        return (p for p in self._points.values() if p.device_id == device_id)

    def device_state(self, device_id: str) -> DeviceState:
        return self._device_states[device_id]

    def latest(self, point_id: str) -> Sample | None:
        return self._latest.get(point_id)

    def latest_all(self) -> Mapping[str, Sample]:
        return self._latest

    def is_stale(self, point_id: str, now: float | None = None) -> bool:
        """No sample for `stale_factor` times the point's interval (or never a sample)."""
        sample = self._latest.get(point_id)
        if sample is None:
            return True
        point = self._points[point_id]
        interval = point.poll_interval or self._devices[point.device_id].poll_interval
        return (now if now is not None else self._clock()) - sample.timestamp > self.stale_factor * interval

    # -- updates ------------------------------------------------------------------------

    def update(self, point_id: str, sample: Sample) -> bool:
        """Accept a sample unless it is inside the point's deadband; returns whether it was accepted."""
        point = self._points.get(point_id)
        if point is None:
            _LOGGER.debug("sample for unknown point %s ignored", point_id)
            return False
        previous = self._latest.get(point_id)
        if previous is not None and _within_deadband(point, previous, sample):
            self._latest[point_id] = Sample(
                previous.value, sample.timestamp, previous.quality, previous.reason
            )
            return False
        self._latest[point_id] = sample
        self._bus.publish(PointUpdate(point, sample, previous))
        return True

    def set_device_state(self, device_id: str, state: DeviceState) -> None:
        """Record a device's health; a change of status is published on the bus."""
        previous = self._device_states.get(device_id)
        self._device_states[device_id] = state
        if previous is None or previous.status != state.status:
            self._bus.publish(DeviceStatusChanged(self._devices[device_id], state))


_NUMBERS = frozenset((int, float))


def _within_deadband(point: Point, previous: Sample, sample: Sample) -> bool:
    increment = point.cov_increment
    if not increment or previous.quality != sample.quality:
        return False
    old, new = previous.value, sample.value
    if old.__class__ in _NUMBERS and new.__class__ in _NUMBERS:  # the usual case, without isinstance
        return abs(new - old) < increment  # type: ignore[operator]
    if isinstance(old, bool) or isinstance(new, bool):
        return False
    if isinstance(old, int | float) and isinstance(new, int | float):
        return abs(new - old) < increment
    return False
