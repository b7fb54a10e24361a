"""The hub's own state on the MQTT contract: `status/update` (retained) and `status/heartbeat`."""

import asyncio
import json
import time
from datetime import UTC, datetime

from hub.health import HealthRegistry
from hub.identity import Identity
from hub.mqtt.broker import EmbeddedBroker

STATUS_UPDATE = "status/update"
STATUS_HEARTBEAT = "status/heartbeat"


def utc_now_iso() -> str:
    """Current UTC time as ISO 8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StatusPublisher:
    """Publishes online/offline and a periodic heartbeat, both retained so a late subscriber sees them."""

    def __init__(
        self, broker: EmbeddedBroker, identity: Identity, version: str, health: HealthRegistry
    ) -> None:
        self._broker = broker
        self._identity = identity
        self._version = version
        self._health = health
        self._started = time.monotonic()
        self.monitoring = True  # whether the hub polls its devices (start_monitoring / stop_monitoring)

    @property
    def uptime_s(self) -> float:
        return round(time.monotonic() - self._started, 3)

    def publish_online(self) -> None:
        """Announce the hub with its identity, version, health and monitoring state."""
        self._publish_update("online", health=str(self._health.report().status), monitoring=self.monitoring)

    def set_monitoring(self, monitoring: bool) -> None:
        """Record the monitoring state and announce it on `status/update`."""
        self.monitoring = monitoring
        self.publish_online()

    def publish_offline(self) -> None:
        """Announce an orderly stop."""
        self._publish_update("offline")

    def offline_payload(self) -> bytes:
        """What `status/update` says after an orderly stop (also the bridge's last will upstream)."""
        return _encode(self._update("offline"))

    def _publish_update(self, state: str, **extra: object) -> None:
        self._send(STATUS_UPDATE, self._update(state, **extra))

    def _update(self, state: str, **extra: object) -> dict[str, object]:
        return {
            "status": state,
            "timestamp": utc_now_iso(),
            "version": self._version,
            "org_id": self._identity.org_id,
            "site_id": self._identity.site_id,
            "iot_device_id": self._identity.iot_device_id,
            **extra,
        }

    def publish_heartbeat(self) -> None:
        """Uptime and the broker's counters."""
        report = self._health.report()
        payload = {
            "timestamp": utc_now_iso(),
            "uptime_s": self.uptime_s,
            "health": str(report.status),
            "counters": self._broker.broker.stats.as_dict(),
            "mqtt_clients": self._broker.broker.connected_clients,
            "monitoring": self.monitoring,
        }
        self._send(STATUS_HEARTBEAT, payload)

    async def run_heartbeat(self, interval: float) -> None:
        """Publish a heartbeat every `interval` seconds, starting now."""
        while True:
            self.publish_heartbeat()
            await asyncio.sleep(interval)

    def _send(self, suffix: str, payload: dict[str, object]) -> None:
        self._broker.publish(self._identity.topic_prefix + suffix, _encode(payload), qos=1, retain=True)


def _encode(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
