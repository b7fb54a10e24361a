"""Big messages routed a slice per loop turn, in order, losing nothing; quick parsing, same verdicts."""

import asyncio

import pytest

from hub.bms.activity import ActivityLog
from hub.bms.ingest import SLICE, Destination, Ingest, MessageOutcome
from hub.bms.mapping import MappingTable
from hub.bms.model import BmsType, Connection, Mapping, Reading, Transport
from hub.bms.payload import MAX_BATCH, MAX_ID_LENGTH, MAX_UNIT_LENGTH, PayloadError, parse
from hub.bms.stats import ConnectionStats
from hub.bus import Bus
from hub.config import StoreConfig
from hub.mqtt.engine import InboundMessage
from hub.points import Device, Point, PointKind, PointRegistry, PointUpdate
from hub.store import Store
from hub.supervisor import Supervisor
from tests.bms.conftest import FIXED, Clock, payload, reading

POINTS = 1000


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            {"point_id": "x" * MAX_ID_LENGTH, "value": 2**70, "unit": "u" * MAX_UNIT_LENGTH, "timestamp": 0},
            (Reading("x" * MAX_ID_LENGTH, 2**70, "u" * MAX_UNIT_LENGTH, 0.0),),
        ),
        (
            {"readings": [reading("a", False, "2026-03-01T12:00:00Z"), reading("b", 1.5, FIXED * 1000, "")]},
            (Reading("a", False, "", FIXED), Reading("b", 1.5, "", FIXED)),
        ),
        (
            {"readings": [{**reading("a", None, 1.25), "test": False}] * MAX_BATCH},
            (Reading("a", None, "", 1.25),) * MAX_BATCH,
        ),
    ],
)
def test_parse__the_limits_still_accepted(message, expected):
    assert parse(payload(message)) == expected


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (reading("x" * (MAX_ID_LENGTH + 1), 1, 1), "point_id: expected 1 to 200 characters"),
        (
            {**reading("a", 1, 1), "unit": "u" * (MAX_UNIT_LENGTH + 1)},
            "unit: length of value must be at most",
        ),
        ({**reading("a", 1, 1), "unit": None}, "unit: expected str"),
        ({**reading("a", 1, 1), "test": 1}, "test: expected bool"),
        ({"point_id": 5, "value": 1, "timestamp": 1}, "point_id: expected str"),
        ({"readings": [reading("a", 1, 1)], "more": 1}, "more: unknown field"),
        ({"readings": reading("a", 1, 1)}, "readings: expected a list"),
        ({"readings": [reading("a", 1, 1), "b"]}, "readings[1]: expected a dictionary"),
        ({"readings": [reading("a", 1, 1)] * (MAX_BATCH + 1)}, "readings: expected 1 to 1000 readings"),
    ],
)
def test_parse__just_past_the_limits_refused_with_the_schemas_reason(message, reason):
    with pytest.raises(PayloadError) as caught:
        parse(payload(message))
    assert reason in str(caught.value)


def mapped_ingest(store: Store, registry: PointRegistry, clock: Clock, count: int) -> Ingest:
    """An ingest for connection "a" whose ids p0... are mapped to registered hub points bms-a.p0..."""
    connection = Connection("a", "A", BmsType.GENERIC, Transport.TCP, "", True, "", "", FIXED, FIXED)
    registry.add_device(
        Device("bms-a", "A", "bms-a"), [Point(f"bms-a.p{n}", "bms-a", f"p{n}") for n in range(count)]
    )
    mappings = MappingTable()
    for n in range(count):
        mappings.put(Mapping(n, "a", f"p{n}", f"bms-a.p{n}", "", True, f"p{n}", "", PointKind.ANALOG))
    stats = ConnectionStats(clock)
    log = ActivityLog(store, clock)
    return Ingest({"a": connection}.get, lambda _: stats, mappings, registry, store.add_bucketed, log, clock)


async def test_a_big_message_is_routed_a_slice_a_turn__in_order__nothing_lost(tmp_path):
    clock = Clock()
    bus = Bus()
    store = Store(StoreConfig(commit_interval=3600), tmp_path / "hub.db", bus, Supervisor())
    await store.start()
    try:
        registry = PointRegistry(bus)
        ingest = mapped_ingest(store, registry, clock, POINTS)
        routed: list[str] = []
        bus.subscribe(PointUpdate, lambda update: routed.append(update.point.id))
        outcomes: list[MessageOutcome] = []
        both = asyncio.Event()

        def seen(outcome: MessageOutcome) -> None:
            outcomes.append(outcome)
            if len(outcomes) == 2:
                both.set()

        ingest.observers.append(seen)
        big = {"readings": [reading(f"p{n}", float(n), FIXED) for n in range(POINTS)]}
        small = reading("p0", -1.0, FIXED + 1800)  # the next bucket: must land after the big message
        ingest.on_message(InboundMessage("bms/a/readings", payload(big), 1, False, "c"))
        assert len(routed) == SLICE, "one slice now, the rest on later loop turns"
        ingest.on_message(InboundMessage("bms/a/readings", payload(small), 1, False, "c"))
        assert len(routed) == SLICE, "queued behind the big message"
        async with asyncio.timeout(10):
            await both.wait()

        assert [len(o.readings) for o in outcomes] == [POINTS, 1]
        assert all(r.destination is Destination.STORED for o in outcomes for r in o.readings)
        assert routed == [f"bms-a.p{n}" for n in range(POINTS)] + ["bms-a.p0"]
        latest = registry.latest("bms-a.p0")
        assert latest is not None
        assert latest.value == -1.0
        assert await store.flush()
        assert store.samples_written == POINTS + 1
    finally:
        await store.stop()


async def test_stopping_routes_what_is_still_waiting(tmp_path):
    store = Store(StoreConfig(commit_interval=3600), tmp_path / "hub.db", Bus(), Supervisor())
    await store.start()
    try:
        registry = PointRegistry(Bus())
        ingest = mapped_ingest(store, registry, Clock(), 200)
        message = {"readings": [reading(f"p{n}", float(n), FIXED) for n in range(200)]}
        ingest.on_message(InboundMessage("bms/a/readings", payload(message), 1, False, "c"))
        assert len(registry.latest_all()) == SLICE
        ingest.drain()
        assert len(registry.latest_all()) == 200
    finally:
        await store.stop()
