"""From a message on `bms/{id}/readings` to samples: validate, count, route each reading, log what happened.

Runs inline in the broker's routing (an in-process subscription), so it only does O(readings)
work in memory: samples go to the points registry (and from there to the store, flows, MQTT and
the UI), log entries and unmapped ids are queued and written by the service's flush task.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from hub.bms.activity import ActivityLog
from hub.bms.mapping import BUCKET_MINUTES, MAX_UNMAPPED, MappingTable, Seen, converted
from hub.bms.model import Connection, EventType, Reading
from hub.bms.payload import PayloadError, parse
from hub.bms.stats import ConnectionStats
from hub.mqtt.engine import InboundMessage
from hub.points import PointRegistry, Sample, Value
from hub.store_buckets import bucket_start

_LOGGER = logging.getLogger(__name__)
TOPIC_FILTER = "bms/+/readings"


class Destination(StrEnum):
    STORED = "stored"  # a sample of a hub point (through the registry, or straight into its bucket if late)
    UNMAPPED = "unmapped"  # listed as unmapped, nothing stored
    TEST = "test"  # a test reading: reported only
    REJECTED = "rejected"  # could not be converted or its point is gone


@dataclass(frozen=True)
class ReadingOutcome:
    external_id: str
    destination: Destination
    point_id: str | None = None
    value: Value = None  # in the hub point's units
    bucket: float | None = None  # UTC start of the 30-minute bucket it was stored in
    problem: str | None = None


@dataclass(frozen=True)
class MessageOutcome:
    """What became of one message; the test button reports it."""

    connection_id: str
    topic: str
    accepted: bool
    problem: str | None
    readings: tuple[ReadingOutcome, ...]


class Ingest:
    """Handles the readings messages of every connection."""

    def __init__(
        self,
        connections: Callable[[str], Connection | None],
        stats: Callable[[str], ConnectionStats],
        mappings: MappingTable,
        points: PointRegistry,
        add_bucketed: Callable[[str, int, Value, int], None],
        activity: ActivityLog,
        clock: Callable[[], float],
    ) -> None:
        self._connections = connections
        self._stats = stats
        self._mappings = mappings
        self._points = points
        self._add_bucketed = add_bucketed  # the store's bucketed upsert, for late readings
        self._activity = activity
        self._clock = clock
        self.observers: list[Callable[[MessageOutcome], None]] = []

    def on_message(self, message: InboundMessage) -> None:
        """The broker's in-process callback for `bms/+/readings`."""
        connection_id = message.topic.split("/")[1]
        connection = self._connections(connection_id)
        if connection is None or not connection.enabled:
            return
        outcome = self.handle(connection, message.topic, message.payload)
        for observer in list(self.observers):
            observer(outcome)

    def handle(self, connection: Connection, topic: str, payload: bytes) -> MessageOutcome:
        stats = self._stats(connection.id)
        try:
            readings = parse(payload)
        except PayloadError as err:
            stats.error(rejected=True)
            self._activity.record(
                connection.id,
                EventType.VALIDATION_FAILED,
                f"message dropped: {err}",
                topic=topic,
                bytes=len(payload),
            )
            return MessageOutcome(connection.id, topic, False, str(err), ())
        stats.message(len(readings))
        self._activity.received(connection.id, len(readings))
        outcomes = tuple(self._route(connection, reading) for reading in readings)
        return MessageOutcome(connection.id, topic, True, None, outcomes)

    def _route(self, connection: Connection, reading: Reading) -> ReadingOutcome:
        mapping = self._mappings.get(connection.id, reading.point_id)
        if mapping is None:
            if reading.test:
                return ReadingOutcome(
                    reading.point_id, Destination.TEST, problem="not mapped: would be listed"
                )
            seen = self._mappings.seen(connection.id, reading, self._clock())
            if seen is Seen.NEW:
                self._activity.record(
                    connection.id, EventType.UNMAPPED_POINT, f"new unmapped point {reading.point_id!r}",
                    point_id=reading.point_id, value=reading.value, unit=reading.unit,
                )  # fmt: skip
            elif seen is Seen.FULL:
                self._stats(connection.id).error()
                self._activity.record(
                    connection.id, EventType.ERROR,
                    f"{reading.point_id!r} not listed: {MAX_UNMAPPED} unmapped ids already (map some)",
                    point_id=reading.point_id,
                )  # fmt: skip
            return ReadingOutcome(reading.point_id, Destination.UNMAPPED)
        try:
            value = converted(mapping, reading)
        except ValueError as err:
            return self._reject(connection, reading, mapping.point_id, str(err))
        if not self._has_point(mapping.point_id):
            return self._reject(
                connection, reading, mapping.point_id, f"hub point {mapping.point_id!r} is gone"
            )
        ts_ms = int(reading.timestamp * 1000)
        bucket = bucket_start(ts_ms, BUCKET_MINUTES) / 1000
        if reading.test:
            return ReadingOutcome(reading.point_id, Destination.TEST, mapping.point_id, value, bucket)
        latest = self._points.latest(mapping.point_id)
        if latest is not None and latest.timestamp > bucket:
            self._add_bucketed(mapping.point_id, ts_ms, value, BUCKET_MINUTES)  # late: history only
        else:
            self._points.update(mapping.point_id, Sample(value, bucket))
        return ReadingOutcome(reading.point_id, Destination.STORED, mapping.point_id, value, bucket)

    def _has_point(self, point_id: str) -> bool:
        try:
            self._points.point(point_id)
        except KeyError:
            return False
        return True

    def _reject(
        self, connection: Connection, reading: Reading, point_id: str, problem: str
    ) -> ReadingOutcome:
        self._stats(connection.id).error()
        self._activity.record(
            connection.id, EventType.ERROR, f"reading for {reading.point_id!r} dropped: {problem}",
            point_id=reading.point_id, hub_point=point_id,
        )  # fmt: skip
        return ReadingOutcome(reading.point_id, Destination.REJECTED, point_id, problem=problem)
