"""From a message on `bms/{id}/readings` to samples: validate, count, route each reading, log what happened.

Runs inline in the broker's routing (an in-process subscription), so it only does O(readings)
work in memory: samples go to the points registry (and from there to the store, flows, MQTT and
the UI), log entries and unmapped ids are queued and written by the service's flush task. Each
reading costs the whole fan-out of a sample, so a message is routed `SLICE` readings per loop turn:
a batch of 1,000 never holds the event loop for long, and messages keep their order.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
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
SLICE = 50  # readings routed per event-loop turn


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


@dataclass
class _Pending:
    """A parsed message whose readings are being routed, slice by slice."""

    connection: Connection
    topic: str
    readings: tuple[Reading, ...]
    done: list[ReadingOutcome] = field(default_factory=list)


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
        self._backlog: deque[_Pending] = deque()
        self._next_turn: asyncio.Handle | None = None

    def on_message(self, message: InboundMessage) -> None:
        """The broker's in-process callback for `bms/+/readings`: a small message is routed at once."""
        connection_id = message.topic.split("/")[1]
        connection = self._connections(connection_id)
        if connection is None or not connection.enabled:
            return
        readings = self._parsed(connection, message.topic, message.payload)
        if isinstance(readings, MessageOutcome):
            self._notify(readings)
            return
        self._backlog.append(_Pending(connection, message.topic, readings))
        if len(self._backlog) == 1:  # else the turn under way comes to it, in order
            self._turn()

    def _turn(self) -> None:
        """Route up to SLICE readings of the oldest messages; a later loop turn goes on."""
        self._next_turn = None
        budget = SLICE
        backlog = self._backlog
        try:
            while backlog and budget:
                pending = backlog[0]
                begin = len(pending.done)
                try:
                    pending.done.extend(
                        self._route(pending.connection, r) for r in pending.readings[begin : begin + budget]
                    )
                except Exception:
                    backlog.popleft()  # a reading that breaks routing drops its message, not the next ones
                    raise
                budget -= len(pending.done) - begin
                if len(pending.done) == len(pending.readings):
                    backlog.popleft()
                    self._notify(
                        MessageOutcome(pending.connection.id, pending.topic, True, None, tuple(pending.done))
                    )
        finally:
            if backlog:
                self._next_turn = asyncio.get_running_loop().call_soon(self._turn)

    def drain(self) -> None:
        """Route every reading still waiting (when stopping, before the store does)."""
        while self._backlog:
            try:
                self._turn()
            except Exception:
                _LOGGER.exception("routing a BMS message failed; it was dropped")
            if self._next_turn is not None:
                self._next_turn.cancel()
                self._next_turn = None

    def _notify(self, outcome: MessageOutcome) -> None:
        for observer in list(self.observers):
            observer(outcome)

    def handle(self, connection: Connection, topic: str, payload: bytes) -> MessageOutcome:
        """Parse and route a whole message now."""
        readings = self._parsed(connection, topic, payload)
        if isinstance(readings, MessageOutcome):
            return readings
        return MessageOutcome(
            connection.id, topic, True, None, tuple(self._route(connection, r) for r in readings)
        )

    def _parsed(
        self, connection: Connection, topic: str, payload: bytes
    ) -> tuple[Reading, ...] | MessageOutcome:
        """The message's readings (counted and logged as received), or the outcome of a rejected one."""
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
        return readings

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
