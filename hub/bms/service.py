"""BmsConnections: life cycle, credentials and mappings of connections, wired to broker, points and store."""

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from hub.auth.secrets import SecretBox
from hub.bms.access import BmsAccess, new_password, password_digest
from hub.bms.activity import ActivityEntry, ActivityFilter, ActivityLog
from hub.bms.ingest import TOPIC_FILTER, Ingest, MessageOutcome
from hub.bms.mapping import MappingTable, connection_device, created_point
from hub.bms.model import DEVICE_PREFIX, BmsType, Connection, EventType, Mapping, Transport
from hub.bms.repository import BmsRepository
from hub.bms.stats import ConnectionStats
from hub.health import ComponentHealth, HealthStatus
from hub.mqtt.access import BrokerAccess
from hub.mqtt.broker import EmbeddedBroker
from hub.mqtt.engine import SessionChange
from hub.points import PointRegistry
from hub.store import Store
from hub.supervisor import Supervisor

_LOGGER = logging.getLogger(__name__)
FLUSH_INTERVAL_S = 2.0  # how often queued log entries and unmapped counts are written
_NOT_ID = re.compile(r"[^a-z0-9]+")
MAX_ID_LENGTH = 32


class NotFound(KeyError):
    """No such connection or mapping."""


@dataclass(frozen=True)
class Conflict(Exception):
    """The change clashes with what exists (a taken id, an already mapped point...)."""

    message: str


@dataclass(frozen=True)
class ConnectionChanges:
    """A PATCH: None leaves a field as it is."""

    name: str | None = None
    bms_type: BmsType | None = None
    transport: Transport | None = None
    description: str | None = None
    enabled: bool | None = None


def connection_id_for(name: str, taken: set[str]) -> str:
    """A short, topic-safe id from a name (`Main building EcoStruxure` -> `main-building-ecostruxure`)."""
    base = _NOT_ID.sub("-", name.lower()).strip("-")[:MAX_ID_LENGTH].strip("-") or "bms"
    candidate, number = base, 2
    while candidate in taken:
        suffix = f"-{number}"
        candidate, number = base[: MAX_ID_LENGTH - len(suffix)] + suffix, number + 1
    return candidate


class BmsConnections:
    """Every external BMS connection of the hub."""

    def __init__(
        self,
        store: Store,
        points: PointRegistry,
        supervisor: Supervisor,
        secrets: Callable[[], SecretBox],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._repo = BmsRepository(store)
        self._points = points
        self._supervisor = supervisor
        self._secrets = secrets
        self._clock = clock
        self._connections: dict[str, Connection] = {}
        self._stats: dict[str, ConnectionStats] = {}
        self.mappings = MappingTable()
        self.activity = ActivityLog(store, clock)
        self.ingest = Ingest(
            self._connections.get,
            self.stats_of,
            self.mappings,
            points,
            store.add_bucketed,
            self.activity,
            clock,
        )
        self._broker: EmbeddedBroker | None = None
        self._undo: list[Callable[[], None]] = []
        self._lock = asyncio.Lock()

    # -- life cycle ----------------------------------------------------------------------

    def access_over(self, fallback: BrokerAccess) -> BrokerAccess:
        """The broker access with connection users checked before `fallback`."""
        return BmsAccess(fallback, self._by_username)

    def _by_username(self, username: str) -> Connection | None:
        if not username.startswith(DEVICE_PREFIX):
            return None
        return self._connections.get(username.removeprefix(DEVICE_PREFIX))

    async def start(self, broker: EmbeddedBroker) -> None:
        """Load connections, register their points, listen to the broker (once store and broker run)."""
        self._broker = broker
        for connection in await self._repo.connections():
            self._connections[connection.id] = connection
        self.mappings.load(await self._repo.mappings(), await self._repo.unmapped())
        for connection in self._connections.values():
            self._register(connection)
        self._undo = [
            broker.subscribe(TOPIC_FILTER, self.ingest.on_message),
            broker.broker.watch_sessions(self._on_session),
        ]
        self._supervisor.spawn("bms-flush", self._flush_loop)

    async def stop(self) -> None:
        """Stop listening and write what is queued (before the store stops)."""
        for undo in self._undo:
            undo()
        self._undo = []
        self.ingest.drain()
        await self._supervisor.stop_task("bms-flush")
        await self.flush()

    async def flush(self) -> None:
        """Write queued log entries and unmapped-point counts."""
        await self.activity.flush()
        await self._repo.save_unmapped(self.mappings.take_dirty())

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            await self.flush()

    def health(self) -> ComponentHealth:
        """How many connections there are, how many are connected, and their recent errors."""
        views = [self.stats_of(c.id).view() for c in self._connections.values()]
        detail = {
            "connections": len(views),
            "enabled": sum(c.enabled for c in self._connections.values()),
            "connected": sum(v.connected for v in views),
            "errors_24h": sum(v.errors_24h for v in views),
            "log_dropped": self.activity.dropped,
        }
        return ComponentHealth(HealthStatus.OK, detail)

    # -- connections ---------------------------------------------------------------------

    def connections(self) -> list[Connection]:
        return sorted(self._connections.values(), key=lambda c: c.created_at)

    def get(self, connection_id: str) -> Connection:
        connection = self._connections.get(connection_id)
        if connection is None:
            raise NotFound(connection_id)
        return connection

    def stats_of(self, connection_id: str) -> ConnectionStats:
        stats = self._stats.get(connection_id)
        if stats is None:
            stats = self._stats[connection_id] = ConnectionStats(self._clock)
        return stats

    async def create(
        self, name: str, bms_type: BmsType, transport: Transport, description: str, actor: str
    ) -> tuple[Connection, str]:
        """A new enabled connection and its password (shown once; admins may reveal it later)."""
        async with self._lock:
            password = new_password()
            now = self._clock()
            connection = Connection(
                id=connection_id_for(name, set(self._connections) | self._device_ids()),
                name=name,
                bms_type=bms_type,
                transport=transport,
                description=description,
                enabled=True,
                password_hash=password_digest(password),
                password_secret=self._secrets().encrypt(password),
                created_at=now,
                updated_at=now,
            )
            await self._repo.save_connection(connection)
            self._connections[connection.id] = connection
            self._register(connection)
        self.config_changed(connection.id, "connection created", actor)
        _LOGGER.info("BMS connection %s created by %s", connection.id, actor)
        return connection, password

    async def update(self, connection_id: str, changes: ConnectionChanges, actor: str) -> Connection:
        async with self._lock:
            old = self.get(connection_id)
            fields = {k: v for k, v in vars(changes).items() if v is not None and getattr(old, k) != v}
            if not fields:
                return old
            connection = replace(old, **fields, updated_at=self._clock())
            await self._repo.save_connection(connection)
            self._connections[connection_id] = connection
            self._register(connection)
        changed = ", ".join(f"{k}={v}" for k, v in fields.items())
        self.config_changed(connection_id, changed, actor)
        if changes.enabled is False:
            self._disconnect(connection, "the connection was disabled")
        return connection

    async def delete(self, connection_id: str, actor: str) -> None:
        """Remove the connection, its mappings and the points they created; its log stays."""
        async with self._lock:
            connection = self.get(connection_id)
            del self._connections[connection_id]
            await self._repo.delete_connection(connection_id)
            self.mappings.forget(connection_id)
            self._points.remove_domain(connection.domain)
        self.config_changed(connection_id, "connection deleted", actor)
        self.activity.forget(connection_id)
        self._stats.pop(connection_id, None)
        self._disconnect(connection, "the connection was deleted")

    def reveal(self, connection_id: str, actor: str) -> str:
        """The current password, decrypted (for admins); the reveal is logged with its actor."""
        password = self._secrets().decrypt(self.get(connection_id).password_secret)
        self.config_changed(connection_id, "password revealed", actor)
        return password

    async def regenerate(self, connection_id: str, actor: str) -> tuple[Connection, str]:
        """A new password: the old one stops working at once and sessions using it are closed."""
        async with self._lock:
            password = new_password()
            connection = replace(
                self.get(connection_id),
                password_hash=password_digest(password),
                password_secret=self._secrets().encrypt(password),
                updated_at=self._clock(),
            )
            await self._repo.save_connection(connection)
            self._connections[connection_id] = connection
        self.config_changed(connection_id, "credentials regenerated", actor)
        self._disconnect(connection, "its credentials were regenerated")
        return connection, password

    # -- mappings ------------------------------------------------------------------------

    async def add_mapping(self, mapping: Mapping, actor: str) -> Mapping:
        """Store a mapping (its id is assigned); a created point joins the connection's device."""
        async with self._lock:
            connection = self.get(mapping.connection_id)
            if self.mappings.get(connection.id, mapping.external_id) is not None:
                raise Conflict(f"{mapping.external_id!r} is already mapped")
            if mapping.created_point and mapping.point_id in {p.id for p in self._points.points()}:
                raise Conflict(f"a point {mapping.point_id!r} already exists")
            saved = await self._repo.add_mapping(mapping)
            self.mappings.put(saved)
            if saved.created_point:
                self._points.add_point(created_point(saved))
        self.config_changed(connection.id, f"{saved.external_id!r} mapped to {saved.point_id}", actor)
        return saved

    async def update_mapping(self, mapping: Mapping, actor: str) -> Mapping:
        async with self._lock:
            await self._repo.update_mapping(mapping)
            self.mappings.put(mapping)
            if mapping.created_point:
                self._points.add_point(created_point(mapping))
        self.config_changed(mapping.connection_id, f"mapping of {mapping.external_id!r} changed", actor)
        return mapping

    async def delete_mapping(self, mapping: Mapping, actor: str) -> None:
        """Forget a mapping; a point it created leaves the registry (its history stays in the store)."""
        async with self._lock:
            await self._repo.delete_mapping(mapping.id)
            self.mappings.remove(mapping)
            if mapping.created_point:
                connection = self.get(mapping.connection_id)
                self._points.remove_domain(connection.domain)
                self._register(connection)
        self.config_changed(mapping.connection_id, f"mapping of {mapping.external_id!r} deleted", actor)

    def config_changed(self, connection_id: str, what: str, actor: str) -> None:
        """Log a change (or a password reveal) with its actor: it also shows in the admins' audit log."""
        self.activity.record(connection_id, EventType.CONFIG_CHANGED, f"{what} by {actor}", actor=actor)

    # -- test and log --------------------------------------------------------------------

    def test(self, connection_id: str, point_id: str, value: object) -> MessageOutcome | None:
        """Publish a test reading through the broker as the connection would; what the ingest made of it."""
        connection = self.get(connection_id)
        broker = self._broker
        if broker is None:
            raise RuntimeError("the BMS connections have not started")
        seen: list[MessageOutcome] = []
        self.ingest.observers.append(seen.append)
        try:
            reading = {"point_id": point_id, "value": value, "timestamp": self._clock(), "test": True}
            broker.broker.route(
                connection.client_id, connection.topic, json.dumps(reading).encode(), 1, False
            )
        finally:
            self.ingest.observers.remove(seen.append)
        return next((o for o in seen if o.connection_id == connection_id), None)

    async def log(self, connection_id: str, wanted: ActivityFilter) -> tuple[list[ActivityEntry], int]:
        """One page of the connection's activity log, newest first, and the number of matches."""
        self.get(connection_id)
        return await self.activity.query(connection_id, wanted)

    # -- internals -----------------------------------------------------------------------

    def _device_ids(self) -> set[str]:
        """Connection ids whose device id another device already has."""
        return {
            d.id.removeprefix(DEVICE_PREFIX) for d in self._points.devices() if d.id.startswith(DEVICE_PREFIX)
        }

    def _register(self, connection: Connection) -> None:
        """(Re-)register the connection's device with the points its mappings created."""
        points = [created_point(m) for m in self.mappings.of(connection.id) if m.created_point]
        self._points.add_device(connection_device(connection), points)

    def _on_session(self, change: SessionChange) -> None:
        connection = self._by_username(change.username) if change.username else None
        if connection is None:
            return
        stats = self.stats_of(connection.id)
        if change.connected:
            stats.connected()
            self.activity.record(
                connection.id, EventType.CONNECTION_ESTABLISHED, f"client {change.client_id} connected",
                client_id=change.client_id,
            )  # fmt: skip
        else:
            stats.disconnected()
            reason = change.reason or "connection closed"
            self.activity.record(
                connection.id, EventType.CONNECTION_LOST, f"client {change.client_id}: {reason}",
                client_id=change.client_id, reason=reason,
            )  # fmt: skip

    def _disconnect(self, connection: Connection, reason: str) -> None:
        if self._broker is not None:
            self._broker.broker.disconnect_user(connection.username, reason)
