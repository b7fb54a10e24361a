"""Which hub point each external point id feeds, and the external ids nobody has mapped yet.

Mapped points live in the points registry like any other: each connection is one device
(`bms-{id}`, domain `bms.{id}`) holding the points created for its mappings; a mapping may also
feed an existing point of another device. Readings are converted to the hub point's units.
"""

import re
from dataclasses import replace
from enum import StrEnum

from hub.bms.model import Connection, Mapping, Reading, Unmapped
from hub.bms.units import conversion_problem, convert, same_unit
from hub.points import Device, Point, Value

BUCKET_MINUTES = 30
BMS_POLL_INTERVAL_S = BUCKET_MINUTES * 60.0  # a BMS sends about once a bucket: stale after a few missed
MAX_UNMAPPED = 5000  # listed unmapped ids per connection: a misconfigured BMS cannot fill memory
_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]+")


class Seen(StrEnum):
    NEW = "new"
    KNOWN = "known"
    FULL = "full"  # a new id while the list is full: not listed


def point_name(external_id: str) -> str:
    """A hub point name from an external id (`AHU1/Supply Temp` -> `AHU1_Supply_Temp`)."""
    return _NOT_NAME.sub("_", external_id).strip("_")[:100] or "point"


def name_problem(name: str) -> str | None:
    if not name or _NOT_NAME.search(name) or len(name) > 100:
        return "expected 1 to 100 letters, digits, _ or -"
    return None


def connection_device(connection: Connection) -> Device:
    return Device(
        id=connection.device_id,
        name=connection.name,
        domain=connection.domain,
        address=connection.topic,
        vendor=str(connection.bms_type),
        poll_interval=BMS_POLL_INTERVAL_S,
    )


def created_point(mapping: Mapping) -> Point:
    """The hub point a mapping created, as registered."""
    device_id = mapping.point_id.rsplit(".", 1)[0]
    return Point(
        mapping.point_id, device_id, mapping.point_name, mapping.point_kind, mapping.point_units,
        address=mapping.external_id,
    )  # fmt: skip


def converted(mapping: Mapping, reading: Reading) -> Value:
    """The reading's value in the hub point's units; ValueError says why it cannot be."""
    unit, target, value = reading.unit or mapping.source_unit, mapping.point_units, reading.value
    if not unit or not target or same_unit(unit, target):
        return value
    problem = conversion_problem(unit, target)
    if problem is not None:
        raise ValueError(problem)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"cannot convert {value!r} from {unit} to {target}: not a number")
    return convert(float(value), unit, target)


class MappingTable:
    """Mappings by (connection, external id) and the unmapped ids each connection sent."""

    def __init__(self) -> None:
        self._mappings: dict[tuple[str, str], Mapping] = {}
        self._unmapped: dict[str, dict[str, Unmapped]] = {}
        self._dirty: set[tuple[str, str]] = set()

    def load(self, mappings: list[Mapping], unmapped: list[tuple[str, Unmapped]]) -> None:
        for mapping in mappings:
            self.put(mapping)
        for connection_id, entry in unmapped:
            self._unmapped.setdefault(connection_id, {})[entry.external_id] = entry

    def get(self, connection_id: str, external_id: str) -> Mapping | None:
        return self._mappings.get((connection_id, external_id))

    def by_id(self, connection_id: str, mapping_id: int) -> Mapping | None:
        return next((m for m in self.of(connection_id) if m.id == mapping_id), None)

    def of(self, connection_id: str) -> list[Mapping]:
        return sorted(
            (m for m in self._mappings.values() if m.connection_id == connection_id), key=lambda m: m.id
        )

    def put(self, mapping: Mapping) -> None:
        self._mappings[(mapping.connection_id, mapping.external_id)] = mapping
        self._unmapped.get(mapping.connection_id, {}).pop(mapping.external_id, None)
        self._dirty.discard((mapping.connection_id, mapping.external_id))

    def remove(self, mapping: Mapping) -> None:
        self._mappings.pop((mapping.connection_id, mapping.external_id), None)

    def forget(self, connection_id: str) -> None:
        for key in [k for k in self._mappings if k[0] == connection_id]:
            del self._mappings[key]
        self._unmapped.pop(connection_id, None)
        self._dirty = {key for key in self._dirty if key[0] != connection_id}

    def seen(self, connection_id: str, reading: Reading, now: float) -> Seen:
        """Count a reading of an unmapped id (a new id is not listed once the list is full)."""
        entries = self._unmapped.setdefault(connection_id, {})
        known = entries.get(reading.point_id)
        if known is None and len(entries) >= MAX_UNMAPPED:
            return Seen.FULL
        if known is None:
            entries[reading.point_id] = Unmapped(reading.point_id, now, now, 1, reading.value, reading.unit)
        else:
            entries[reading.point_id] = replace(
                known, last_seen=now, count=known.count + 1, last_value=reading.value, last_unit=reading.unit
            )
        self._dirty.add((connection_id, reading.point_id))
        return Seen.NEW if known is None else Seen.KNOWN

    def unmapped(self, connection_id: str) -> list[Unmapped]:
        return sorted(self._unmapped.get(connection_id, {}).values(), key=lambda u: u.external_id)

    def unmapped_entry(self, connection_id: str, external_id: str) -> Unmapped | None:
        return self._unmapped.get(connection_id, {}).get(external_id)

    def take_dirty(self) -> list[tuple[str, Unmapped]]:
        """The unmapped entries changed since the last call (to be saved)."""
        out = []
        for connection_id, external_id in self._dirty:
            entry = self._unmapped.get(connection_id, {}).get(external_id)
            if entry is not None:
                out.append((connection_id, entry))
        self._dirty = set()
        return out
