"""The Hub: wires the services together and owns their start and stop order."""

import logging
import time
from dataclasses import dataclass

from hub import __version__
from hub.bus import Bus
from hub.config import HubConfig
from hub.health import HealthRegistry
from hub.identity import Identity, load_identity
from hub.mqtt.access import BrokerAccess, ConfigUserAccess
from hub.mqtt.broker import EmbeddedBroker
from hub.mqtt.status import StatusPublisher
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
    """One hub process: bus, health, supervised tasks, the embedded broker and the status topics."""

    def __init__(
        self, config: HubConfig, backoff: Backoff = DEFAULT_BACKOFF, access: BrokerAccess | None = None
    ) -> None:
        self.config = config
        self.version = __version__
        self.bus = Bus()
        self.health = HealthRegistry()
        self.supervisor = Supervisor(backoff)
        self.broker = EmbeddedBroker(
            config.mqtt, access or ConfigUserAccess(config.mqtt.users, config.mqtt.allow_anonymous)
        )
        self._identity: Identity | None = None
        self._status: StatusPublisher | None = None
        self.started_at: float | None = None
        self.health.register("broker", self.broker.health)
        self.health.register("tasks", self.supervisor.health)

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            raise RuntimeError("the hub has not started")
        return self._identity

    async def start(self) -> None:
        """Start services in dependency order; a failure stops what had started and raises."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self._identity = load_identity(self.config.identity, self.config.data_dir)
        if not self.config.mqtt.users and not self.config.mqtt.allow_anonymous:
            _LOGGER.warning("no MQTT users are configured: the broker refuses every client (see mqtt.users)")
        await self.broker.start()
        self._status = StatusPublisher(self.broker, self._identity, self.version, self.health)
        self._status.publish_online()
        interval = self.config.mqtt.heartbeat_interval
        self.supervisor.spawn("heartbeat", lambda: self._status.run_heartbeat(interval))  # type: ignore[union-attr]
        self.started_at = time.monotonic()
        self.bus.publish(HubStarted(self._identity, self.version))
        _LOGGER.info("hub %s started as %s", self.version, self._identity.topic_prefix)

    async def stop(self) -> None:
        """Announce offline, stop tasks, then disconnect every MQTT client."""
        self.bus.publish(HubStopping())
        if self._status is not None:
            self._status.publish_offline()
        await self.supervisor.stop()
        await self.broker.stop()
        _LOGGER.info("hub stopped")
