"""The Hub: wires the services together and owns their start and stop order."""

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from hub import __version__
from hub.bus import Bus
from hub.commands import CommandService
from hub.config import HubConfig
from hub.discovery import DiscoveryService
from hub.discovery_store import JsonDiscoveryStore
from hub.health import HealthRegistry
from hub.identity import Identity, load_identity
from hub.integration import IntegrationContext
from hub.loader import IntegrationManager
from hub.mqtt.access import BrokerAccess, ConfigUserAccess
from hub.mqtt.broker import EmbeddedBroker
from hub.mqtt.status import StatusPublisher
from hub.points import PointRegistry
from hub.polling import Poller
from hub.supervisor import DEFAULT_BACKOFF, Backoff, Supervisor

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class HubStarted:
    """Published on the bus once every service is up."""

    identity: Identity
    version: str


@dataclass(frozen=True)
class HubStopping:
    """Published on the bus before any service stops."""


class Hub:
    """One hub process: bus, health, supervised tasks, broker, status topics, points, polling, integrations.

    It is the `IntegrationHost` the integration manager sets integrations up against.
    """

    def __init__(
        self, config: HubConfig, backoff: Backoff = DEFAULT_BACKOFF, access: BrokerAccess | None = None
    ) -> None:
        self.config = config
        self.version = __version__
        self.bus = Bus()
        self.health = HealthRegistry()
        self.supervisor = Supervisor(backoff)
        self.access = access or ConfigUserAccess(config.mqtt.users, config.mqtt.allow_anonymous)
        self.broker = EmbeddedBroker(config.mqtt, self.access)
        polling = config.polling
        self.points = PointRegistry(self.bus, stale_factor=polling.stale_factor)
        self.poller = Poller(
            self.points,
            self.supervisor,
            max_backoff=polling.max_backoff,
            min_read_timeout=polling.read_timeout,
        )
        self.integrations = IntegrationManager(self)
        self.commands = CommandService(self.points, self.integrations.get, self.bus)
        store = JsonDiscoveryStore(config.data_dir / "discovery.json")
        self.discovery = DiscoveryService(self.integrations.loaded, self.bus, store)
        self._identity: Identity | None = None
        self._status: StatusPublisher | None = None
        self.started_at: float | None = None
        self.health.register("broker", self.broker.health)
        self.health.register("tasks", self.supervisor.health)
        self.health.register("polling", self.poller.health)
        self.health.register("integrations", self.integrations.health)

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            raise RuntimeError("the hub has not started")
        return self._identity

    async def start(self) -> None:
        """Start services in dependency order; a failure stops what had started and raises."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self._identity = load_identity(self.config.identity, self.config.data_dir)
        await self.discovery.load()
        if not self.config.mqtt.users and not self.config.mqtt.allow_anonymous:
            _LOGGER.warning("no MQTT users are configured: the broker refuses every client (see mqtt.users)")
        await self.broker.start()
        self._status = StatusPublisher(self.broker, self._identity, self.version, self.health)
        self._status.publish_online()
        interval = self.config.mqtt.heartbeat_interval
        self.supervisor.spawn("heartbeat", lambda: self._status.run_heartbeat(interval))  # type: ignore[union-attr]
        await self.integrations.setup_all(self.config.integrations, self.config.source)
        self.started_at = time.monotonic()
        self.bus.publish(HubStarted(self._identity, self.version))
        _LOGGER.info("hub %s started as %s", self.version, self._identity.topic_prefix)

    def integration_context(self, domain: str) -> IntegrationContext:
        """A narrow context for one integration; the manager undoes what it registers on unload."""
        data_dir = self.config.data_dir / "integrations" / domain
        data_dir.mkdir(parents=True, exist_ok=True)
        return IntegrationContext(
            domain=domain,
            logger=logging.getLogger(f"integrations.{domain}"),
            points=self.points,
            bus=self.bus,
            data_dir=data_dir,
            config_dir=self.config.source.parent if self.config.source else Path.cwd(),
            _supervisor=self.supervisor,
            _broker=self.broker,
            _report=self.poller.report,
        )

    async def stop(self) -> None:
        """Announce offline, unload integrations, stop tasks, then disconnect every MQTT client."""
        self.bus.publish(HubStopping())
        if self._status is not None:
            self._status.publish_offline()
        await self.discovery.stop()
        await self.integrations.stop_all()
        await self.supervisor.stop()
        await self.broker.stop()
        _LOGGER.info("hub stopped")
