"""The `monitored_devices` table: devices users added from discovery, and the audit events of each change.

A change and its event are written in one transaction, so the activity log never says a device
was added that the table does not hold (or the other way round).
"""

import json
import logging

import aiosqlite

from hub.codec import found_from_json, found_json
from hub.monitoring import MonitoredDevice, MonitoringEvent
from hub.store_tables import Database

_LOGGER = logging.getLogger(__name__)


class MonitoredStore:
    """Reads and changes the monitored devices in the hub's database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self) -> list[MonitoredDevice]:
        """Every stored device, oldest first; a row this hub cannot read is logged and skipped."""
        sql = (
            "SELECT descriptor, all_points, operation_id, added_by, added_ms "
            "FROM monitored_devices ORDER BY added_ms, device_id"
        )
        async with self._db.reader.execute(sql) as cursor:
            rows = await cursor.fetchall()
        devices = []
        for descriptor, all_points, operation_id, added_by, added_ms in rows:
            try:
                found = found_from_json(json.loads(descriptor))
            except (ValueError, KeyError, TypeError) as err:
                _LOGGER.error("skipping a monitored device it cannot read: %s: %s", type(err).__name__, err)
                continue
            devices.append(MonitoredDevice(found, bool(all_points), operation_id, added_by, added_ms / 1000))
        return devices

    async def add(self, device: MonitoredDevice) -> None:
        """Insert the device and its `monitoring.added` event."""
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO monitored_devices "
                "(device_id, domain, descriptor, all_points, operation_id, added_by, added_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    device.id,
                    device.domain,
                    json.dumps(found_json(device.found), ensure_ascii=False),
                    int(device.all_points),
                    device.operation_id,
                    device.added_by,
                    int(device.added_at * 1000),
                ),
            )
            await _event(db, MonitoringEvent.ADDED, device, device.added_by, device.added_at)

    async def remove(self, device: MonitoredDevice, actor: str, now: float) -> None:
        """Delete the device and record its `monitoring.removed` event."""
        async with self._db.transaction() as db:
            await db.execute("DELETE FROM monitored_devices WHERE device_id = ?", (device.id,))
            await _event(db, MonitoringEvent.REMOVED, device, actor, now)


async def _event(
    db: aiosqlite.Connection, kind: MonitoringEvent, device: MonitoredDevice, actor: str, now: float
) -> None:
    data = {
        "actor": actor,
        "domain": device.domain,
        "name": device.found.device.name,
        "points": len(device.found.points),
        "all_points": device.all_points,
        "operation_id": device.operation_id,
    }
    await db.execute(
        "INSERT INTO events (ts, kind, subject, data) VALUES (?, ?, ?, ?)",
        (int(now * 1000), str(kind), device.id, json.dumps(data, ensure_ascii=False)),
    )
