"""The Hub: wires the services together and owns their start and stop order."""

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from hub import __version__
from hub.alarms.history import KIND as ALARM_EVENTS
from hub.alarms.service import AlarmService
from hub.auth.service import AuthService
from hub.bms.service import BmsConnections
from hub.bridge import Bridge
from hub.bus import Bus
from hub.commands import CommandService
from hub.config import HubConfig
from hub.discovery import DiscoveryService
from hub.flows.nodes import builtin_registry
from hub.flows.service import FlowService
from hub.health import HealthRegistry
from hub.heap import HeapTrimmer
from hub.identity import Identity, load_identity
from hub.integration import IntegrationContext
from hub.loader import IntegrationManager
from hub.metrics import Metrics
from hub.monitoring import MonitoringService
from hub.monitoring_store import MonitoredStore
from hub.mqtt.access import BrokerAccess, ConfigUserAccess
from hub.mqtt.broker import EmbeddedBroker
from hub.mqtt.status import StatusPublisher
from hub.mqtt_api.commands import CommandContext
from hub.mqtt_api.service import MqttApi
from hub.points import PointRegistry
from hub.polling import Poller
from hub.store import Store
from hub.supervisor import DEFAULT_BACKOFF, Backoff, Supervisor
from hub.watchdog import LoopWatchdog

_LOGGER = logging.getLogger(__name__)
BRIDGE_FLUSH_S = 5.0  # on stop, how long the bridge may take to send what is waiting (the offline status)


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
        self.store = Store(
            config.store,
            config.data_dir / "hub.db",
            self.bus,
            self.supervisor,
            legacy_discovery=config.data_dir / "discovery.json",
        )
        config_users = ConfigUserAccess(config.mqtt.users, config.mqtt.allow_anonymous)
        self.auth = AuthService(config.auth, config.data_dir, self.store, config_users, lambda: self.identity)
        self.access = access or self.auth.access
        self.bms = BmsConnections(self.store, self.points, self.supervisor, lambda: self.auth.secrets)
        self.access = self.bms.access_over(self.access)  # BMS connection users first, then the rest
        self.broker = EmbeddedBroker(config.mqtt, self.access)
        self.discovery = DiscoveryService(self.integrations.loaded, self.bus, self.store.discovery)
        self.monitoring = MonitoringService(MonitoredStore(self.store), self.integrations.get, self.points)
        self.alarms = AlarmService(
            config.alarms,
            bus=self.bus,
            points=self.points,
            db=self.store,
            broker=self.broker,
            supervisor=self.supervisor,
        )
        self.store.purger.protect(ALARM_EVENTS, self.alarms.needs_history)  # the projection replays them
        self.flows = FlowService(
            config.flows,
            config.source.parent if config.source else Path.cwd(),
            builtin_registry(),
            self.points,
            self.commands,
            self.bus,
            self.store,
            publish=self.broker.publish,
            alarms=self.alarms,
        )
        self._identity: Identity | None = None
        self._status: StatusPublisher | None = None
        self.mqtt_api: MqttApi | None = None
        self.bridge: Bridge | None = None
        self.started_at: float | None = None
        self.health.register("broker", self.broker.health)
        self.health.register("tasks", self.supervisor.health)
        self.health.register("polling", self.poller.health)
        self.health.register("integrations", self.integrations.health)
        self.health.register("store", self.store.health)
        self.watchdog = LoopWatchdog()
        self.health.register("event_loop", self.watchdog.health)
        self.heap = HeapTrimmer()
        self.health.register("heap", self.heap.health)
        self.metrics = Metrics(self.health.report, self.bus)

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            raise RuntimeError("the hub has not started")
        return self._identity

    async def start(self) -> None:
        """Start services in dependency order; a failure stops what had started and raises."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self._identity = load_identity(self.config.identity, self.config.data_dir)
        await self.store.start()  # before anything that produces samples or events
        try:
            await self._start_services()
        except BaseException:
            await self.store.stop()  # its connection threads would keep the process alive
            raise

    async def _start_services(self) -> None:
        """Everything that starts after the store (a failure here closes the store again)."""
        await self.discovery.load()
        await self.monitoring.load()  # before the integrations: they get their added devices at setup
        await self.auth.start()  # the first admin, or the setup token, before anyone can connect
        self.supervisor.spawn("loop-watchdog", self.watchdog.run)
        self.supervisor.spawn("heap-trim", self.heap.run)
        await self.broker.start()
        self._status = StatusPublisher(self.broker, self._identity, self.version, self.health)
        if self.config.bridge.enabled:
            self.bridge = self._make_bridge(self._status)
            await self.bridge.start()
            self.health.register("bridge", self.bridge.health)
        self._status.publish_online()
        interval = self.config.mqtt.heartbeat_interval
        self.supervisor.spawn("heartbeat", lambda: self._status.run_heartbeat(interval))  # type: ignore[union-attr]
        context = self._command_context(self._status)
        self.mqtt_api = MqttApi(context, self.config.mqtt_api, self.supervisor, self.config.data_dir)
        self.mqtt_api.start()
        self.health.register("telemetry", self.mqtt_api.health)
        await self.alarms.start(self.identity.topic_prefix)  # before the integrations: it sees their devices
        await self.bms.start(self.broker)
        self.health.register("bms", self.bms.health)
        self.health.register("alarms", self.alarms.health)
        await self.integrations.setup_all(self.config.integrations, self.config.source)
        await self.flows.start()  # after the integrations: flows are checked against their points
        self.health.register("flows", self.flows.health)
        self.started_at = time.monotonic()
        self.bus.publish(HubStarted(self._identity, self.version))
        _LOGGER.info("hub %s started as %s", self.version, self._identity.topic_prefix)

    def _command_context(self, status: StatusPublisher) -> CommandContext:
        """What MQTT commands act on."""
        return CommandContext(
            broker=self.broker,
            identity=self.identity,
            bus=self.bus,
            points=self.points,
            discovery=self.discovery,
            commands=self.commands,
            poller=self.poller,
            status=status,
            restart=self.restart_services,
            deploy_flows=self.flows.deploy,
        )

    def _make_bridge(self, status: StatusPublisher) -> Bridge:
        """The upstream bridge; on every (re)connection it re-announces the hub over its last will."""
        return Bridge(
            self.config.bridge,
            self.broker,
            self.bus,
            self.identity,
            self.supervisor,
            self.config.data_dir,
            self.config.source.parent if self.config.source else Path.cwd(),
            will=status.offline_payload(),
            on_connected=status.publish_online,
        )

    async def restart_services(self) -> None:
        """Restart the integrations (and so their polling) in process; the broker and HTTP stay up."""
        _LOGGER.warning("restarting the integrations")
        await self.integrations.stop_all()
        await self.integrations.setup_all(self.config.integrations, self.config.source)

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
            monitored=self.monitoring.for_domain(domain),
        )

    async def stop(self) -> None:
        """Announce offline, unload integrations, stop tasks, then disconnect every MQTT client."""
        self.bus.publish(HubStopping())
        if self._status is not None:
            self._status.publish_offline()
        if self.mqtt_api is not None:
            await self.mqtt_api.stop()
        if self.bridge is not None:
            await self.bridge.flush(BRIDGE_FLUSH_S)
        await self.discovery.stop()
        await self.flows.stop()  # before the integrations: the flows' outputs relinquish through them
        await self.integrations.stop_all()
        await self.alarms.stop()  # before the store: its last events are written
        await self.bms.stop()
        await self.store.stop()  # after the integrations: their last samples are written too
        await self.supervisor.stop()
        if self.bridge is not None:
            await self.bridge.close()
        await self.broker.stop()
        _LOGGER.info("hub stopped")
