"""The plugin API: what an integration implements and the narrow context the hub gives it.

An integration is a module found through the `bms_hub.integrations` entry-point group (built-in
ones too). It exposes `DOMAIN`, `CONFIG_SCHEMA` (voluptuous) and
`async def async_setup(ctx: IntegrationContext, config) -> Integration`. It only speaks its
protocol: the core schedules polls, batches, backs off, stores and publishes.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from hub.bus import Bus
from hub.config import MqttConfig
from hub.health import ComponentHealth
from hub.mqtt.access import ConfigUserAccess
from hub.mqtt.broker import EmbeddedBroker
from hub.mqtt.engine import InboundMessage
from hub.points import Device, Point, PointRegistry, Sample, Value
from hub.supervisor import Supervisor

ENTRY_POINT_GROUP = "bms_hub.integrations"
DEFAULT_PRIORITY = 8


class DeviceError(Exception):
    """The device as a whole did not answer (timeout, connection refused): every point goes bad."""


class WriteError(Exception):
    """The device refused or failed a write; the message says why."""


@dataclass(frozen=True)
class DiscoveryRequest:
    """What to look for; integrations ignore the fields that mean nothing to them."""

    low_instance: int | None = None
    high_instance: int | None = None
    addresses: tuple[str, ...] = ()
    timeout: float = 30.0


@dataclass(frozen=True)
class DiscoveryProgress:
    """How far an integration's discovery has got."""

    percent: float
    current: str = ""
    message: str = ""


@dataclass(frozen=True)
class DiscoveredDevice:
    """A device found by discovery, with the points it offers."""

    device: Device
    points: tuple[Point, ...] = ()


DiscoveryEvent = DiscoveryProgress | DiscoveredDevice


@runtime_checkable
class Integration(Protocol):
    """What every integration implements; checked when it loads."""

    batch_size: int  # most points one read() call should carry

    async def start(self) -> None:
        """Open connections; register devices and points through the context."""
        ...

    async def stop(self) -> None:
        """Close connections; the context removes what was registered."""
        ...

    def discover(self, request: DiscoveryRequest) -> AsyncIterator[DiscoveryEvent]:
        """Look for devices, yielding progress and each device found."""
        ...

    async def read(self, points: Sequence[Point]) -> Mapping[str, Sample]:
        """Read a batch of one device's points; raise DeviceError if the device did not answer."""
        ...

    async def write(self, point: Point, value: Value, priority: int) -> None:
        """Write `value` (None relinquishes `priority`); raise WriteError when refused."""
        ...

    def health(self) -> ComponentHealth:
        """The integration's own view of its health."""
        ...


@runtime_checkable
class PushIntegration(Integration, Protocol):
    """An integration whose devices also push changes (BACnet COV, MQTT ingest)."""

    async def subscribe(self, points: Sequence[Point]) -> None:
        """Ask the devices to push changes; pushes arrive through `IntegrationContext.report`."""
        ...


@dataclass(frozen=True)
class PrioritySlots:
    """Who holds a commandable point: its 16 command slots (priority 1 first; None: empty), its default."""

    slots: tuple[Value, ...]
    relinquish_default: Value = None  # what the point does when every slot is empty (None: not known)


@runtime_checkable
class PriorityArrayIntegration(Integration, Protocol):
    """An integration whose commandable points have a BACnet-style priority array the UI can show."""

    async def priority_array(self, point_id: str) -> PrioritySlots | None:
        """The point's slots as the device holds them now; None when it has no priority array."""
        ...


@runtime_checkable
class MonitoringIntegration(Integration, Protocol):
    """An integration that can poll a device a user added from a discovery result, live, without config."""

    def monitor_problem(self, found: DiscoveredDevice) -> str | None:
        """Why this discovered device cannot be monitored (e.g. it is in the config); None if it can."""
        ...

    async def monitor(self, found: DiscoveredDevice) -> None:
        """Poll the device like a configured one: register it and the points in `found` (the chosen ones)."""
        ...

    async def unmonitor(self, device_id: str) -> None:
        """Forget a device the user removed (its connection, subscriptions); the hub drops its points."""
        ...


@dataclass
class IntegrationContext:
    """Everything an integration may touch; what it registers is tagged with its domain, undone on unload."""

    domain: str
    logger: logging.Logger
    points: PointRegistry
    bus: Bus
    data_dir: Path  # the integration's own folder in the hub's data folder (caches that survive a restart)
    config_dir: Path  # the folder of the config file: relative paths in an integration's settings start here
    _supervisor: Supervisor
    _broker: EmbeddedBroker
    _report: Callable[[str, Sample], None]
    # The devices users added from discovery (hub.monitoring), with their chosen points: a
    # MonitoringIntegration registers them in start() like its configured ones.
    monitored: tuple[DiscoveredDevice, ...] = ()
    _cleanups: list[Callable[[], Awaitable[None] | None]] = field(default_factory=list)
    _task_names: list[str] = field(default_factory=list)

    def spawn(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        """Run a supervised task owned by this integration (restarted on crash, stopped on unload)."""
        full_name = f"{self.domain}.{name}"
        self._supervisor.spawn(full_name, factory)
        self._task_names.append(full_name)

    def on_cleanup(self, callback: Callable[[], Awaitable[None] | None]) -> None:
        """Run `callback` when the integration unloads (last registered, first run)."""
        self._cleanups.append(callback)

    def add_device(self, device: Device, points: Sequence[Point] = ()) -> None:
        """Register a device of this integration and its points."""
        if device.domain != self.domain:
            raise ValueError(f"device {device.id!r} has domain {device.domain!r}, expected {self.domain!r}")
        self.points.add_device(device, points)

    def report(self, point_id: str, sample: Sample) -> None:
        """Hand in a pushed sample (COV); it takes the same path as polled ones."""
        self._report(point_id, sample)

    def mqtt_publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        """Publish on the hub's broker."""
        self._broker.publish(topic, payload, qos, retain)

    def mqtt_subscribe(self, topic_filter: str, callback: Callable[[InboundMessage], None]) -> None:
        """Receive messages in-process; unsubscribed automatically on unload."""
        self._cleanups.append(self._broker.subscribe(topic_filter, callback))


def detached_context(
    domain: str,
    registry: PointRegistry,
    supervisor: Supervisor,
    folder: Path,
    report: Callable[[str, Sample], None] | None = None,
) -> IntegrationContext:
    """A context for one integration without a hub (benchmarks, tests): `folder` holds its data and
    config, pushes go to `report` (default: straight into the registry), MQTT to a broker never started.
    """
    return IntegrationContext(
        domain=domain,
        logger=logging.getLogger(f"integrations.{domain}"),
        points=registry,
        bus=registry.bus,
        data_dir=folder,
        config_dir=folder,
        _supervisor=supervisor,
        _broker=EmbeddedBroker(MqttConfig(), ConfigUserAccess((), False)),
        _report=report or registry.update,
    )
