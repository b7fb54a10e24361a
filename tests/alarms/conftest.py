"""An AlarmService on real parts (SQLite store, embedded broker, bus, registry) and a clock the test moves."""

import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hub.alarms.service import AlarmService
from hub.alarms.settings import AlarmsConfig, StaleRule
from hub.bus import Bus
from hub.config import MqttConfig, StoreConfig
from hub.mqtt.access import ConfigUserAccess
from hub.mqtt.broker import EmbeddedBroker
from hub.mqtt.engine import InboundMessage
from hub.points import Device, Point, PointRegistry, Sample
from hub.store import Store
from hub.supervisor import Supervisor

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
PREFIX = "iot/global/acme/hq/hub-1/"
QUIET = AlarmsConfig(tick_interval=3600, stale=StaleRule(enabled=False))  # the test ticks by hand


class Clock:
    """Epoch seconds that move only when the test says so."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    """What an AlarmService runs against; `restart()` builds a new service over the same database."""

    clock: Clock
    bus: Bus
    points: PointRegistry
    store: Store
    broker: EmbeddedBroker
    supervisor: Supervisor
    config: AlarmsConfig
    service: AlarmService | None = None
    published: list[dict] = field(default_factory=list)  # alarms/event payloads, in order

    @property
    def alarms(self) -> AlarmService:
        assert self.service is not None
        return self.service

    async def start(self, config: AlarmsConfig | None = None) -> AlarmService:
        self.config = config or self.config
        self.service = AlarmService(
            self.config,
            bus=self.bus,
            points=self.points,
            db=self.store,
            broker=self.broker,
            supervisor=self.supervisor,
            clock=self.clock,
        )
        await self.service.start(PREFIX)
        return self.service

    async def restart(self) -> AlarmService:
        await self.alarms.stop()
        return await self.start()

    def sample(self, point_id: str, value: object, after: float = 0.0) -> None:
        """Move the clock by `after` seconds and report a good sample taken now."""
        self.clock.now += after
        self.points.update(point_id, Sample(value, self.clock.now))  # type: ignore[arg-type]

    def advance(self, seconds: float) -> None:
        """Move the clock and let the service judge delays, as its tick task would."""
        self.clock.now += seconds
        self.alarms.tick()

    def states(self) -> dict[str, str]:
        return {alarm.id: str(alarm.state) for alarm in self.alarms.alarms()}


StartSite = Callable[..., Awaitable[Site]]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[StartSite]:
    """Start a site: device `ahu-1` (5 s interval) with points ahu-1.temp (°C) and ahu-1.fan."""
    running: list[Site] = []

    async def start(config: AlarmsConfig = QUIET, **changes: object) -> Site:
        clock = Clock()
        bus = Bus()
        points = PointRegistry(bus, clock=clock)
        device = Device("ahu-1", "AHU 1", "test", poll_interval=5.0)
        points.add_device(
            device, [Point("ahu-1.temp", "ahu-1", "temp", units="°C"), Point("ahu-1.fan", "ahu-1", "fan")]
        )
        supervisor = Supervisor()
        store = Store(StoreConfig(commit_interval=3600), tmp_path / "hub.db", bus, supervisor, clock=clock)
        await store.start()
        broker = EmbeddedBroker(MqttConfig(), ConfigUserAccess((), False))
        await broker.start()
        s = Site(clock, bus, points, store, broker, supervisor, dataclasses.replace(config, **changes))
        broker.subscribe(PREFIX + "alarms/event", lambda m: s.published.append(_json(m)))
        running.append(s)
        await s.start()
        return s

    yield start
    for s in running:
        await s.alarms.stop()
        await s.supervisor.stop()
        await s.store.stop()
        await s.broker.stop()


def _json(message: InboundMessage) -> dict:
    return json.loads(message.payload)
