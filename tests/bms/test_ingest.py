"""Readings from a real MQTT client with generated credentials, through the broker into points and store."""

import sqlite3
import time
from datetime import UTC, datetime

import pytest

from hub.bms.activity import ActivityFilter, ActivityLog
from hub.bms.ingest import Ingest
from hub.bms.mapping import MappingTable
from hub.bms.model import BmsType, Connection, EventType, Transport
from hub.bms.stats import ConnectionStats
from hub.bus import Bus
from hub.config import StoreConfig
from hub.points import PointRegistry
from hub.store import Store
from hub.store_chunks import decode
from hub.supervisor import Supervisor
from tests.bms.conftest import FIXED, Clock, bms_client, create_connection, payload, reading
from tests.conftest import TRANSPORTS, RunningHub
from tests.http.helpers import call

# A 30-minute boundary an hour ago: within the store's raw retention, which purges older samples.
T0_S = int(time.time()) // 1800 * 1800 - 3600
T0 = datetime.fromtimestamp(T0_S, UTC).isoformat().replace("+00:00", "Z")


def _stored(running: RunningHub, point_id: str) -> list[tuple]:
    """(ts ms, value) rows of a point, decoded from the store's chunks, as another program would."""
    with sqlite3.connect(running.hub.store.path) as db:
        key = db.execute("SELECT key FROM points WHERE point_id = ?", (point_id,)).fetchone()
        if key is None:
            return []
        chunks = db.execute("SELECT start, data FROM sample_chunks WHERE point_key = ?", key).fetchall()
    return [(ts, value) for start, data in chunks for ts, value, _ in decode(start, data)]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_single_and_batch__mapped_samples_appear_unmapped_listed(bms_hub: RunningHub, transport):
    creds = await create_connection(bms_hub)
    status, mapping = await call(
        bms_hub,
        "POST",
        f"/api/bms/connections/{creds.connection_id}/mappings",
        {
            "external_id": "AHU1/SupplyTemp",
            "new_point": {"name": "supply_temp", "units": "degC"},
            "source_unit": "degF",
        },
    )
    assert status == 201, mapping
    point_id = mapping["point_id"]
    assert point_id == f"bms-{creds.connection_id}.supply_temp"

    async with bms_client(bms_hub, creds, transport) as client:
        await client.publish(creds.topic, payload(reading("AHU1/SupplyTemp", 50.0, T0)), qos=1)
        batch = {
            "readings": [reading("AHU1/SupplyTemp", 68.0, T0_S + 60, "degF"), reading("AHU1/Fan", True, T0)]
        }
        await client.publish(creds.topic, payload(batch), qos=1)

    status, latest = await call(bms_hub, "GET", f"/api/data/latest?points={point_id}")
    assert status == 200, latest
    assert latest["values"][point_id] == pytest.approx(20.0)  # 68 degF, the later reading of the same bucket
    status, unmapped = await call(bms_hub, "GET", f"/api/bms/connections/{creds.connection_id}/unmapped")
    assert [(u["external_id"], u["count"], u["last_value"]) for u in unmapped["unmapped"]] == [
        ("AHU1/Fan", 1, True)
    ]
    await bms_hub.hub.store.flush()
    assert _stored(bms_hub, point_id) == [(T0_S * 1000, pytest.approx(20.0))]
    assert _stored(bms_hub, f"bms-{creds.connection_id}.AHU1_Fan") == []


async def test_replaying_messages__same_stored_buckets(bms_hub: RunningHub):
    creds = await create_connection(bms_hub)
    await call(bms_hub, "POST", f"/api/bms/connections/{creds.connection_id}/mappings", {"external_id": "M1"})
    point_id = f"bms-{creds.connection_id}.M1"
    messages = [
        {"readings": [reading("M1", 1.0, T0_S + 10), reading("M1", 2.0, T0_S + 1799)]},  # one bucket: 2 wins
        reading("M1", 3.0, T0_S + 1800),  # exactly the next boundary: its own bucket
        reading("M1", 0.5, T0_S - 1),  # late, for the previous bucket: history only
    ]
    stored = []
    for _ in range(2):
        async with bms_client(bms_hub, creds) as client:
            for message in messages:
                await client.publish(creds.topic, payload(message), qos=1)
        await bms_hub.hub.store.flush()
        stored.append(sorted(_stored(bms_hub, point_id)))
        rollups = (
            sqlite3.connect(bms_hub.hub.store.path)
            .execute("SELECT width_min, bucket_ts, count, last FROM rollups ORDER BY 1, 2")
            .fetchall()
        )
        stored.append(rollups)

    first, first_rollups, second, second_rollups = stored
    assert first == [((T0_S - 1800) * 1000, 0.5), (T0_S * 1000, 2.0), ((T0_S + 1800) * 1000, 3.0)]
    assert second == first
    assert second_rollups == first_rollups


async def test_malformed_payloads__validation_failed_counted_nothing_stored(bms_hub: RunningHub):
    creds = await create_connection(bms_hub)
    await call(bms_hub, "POST", f"/api/bms/connections/{creds.connection_id}/mappings", {"external_id": "M1"})
    bad = [
        b"not json",
        b"[1, 2]",
        payload({"point_id": "M1", "value": 1}),  # no timestamp
        payload({"readings": [reading("M1", 1, T0), reading("M1", 2, "yesterday")]}),  # one bad: all dropped
        b'{"point_id": "M1", "value": NaN, "timestamp": 1}',
    ]
    async with bms_client(bms_hub, creds) as client:
        for message in bad:
            await client.publish(creds.topic, message, qos=1)

    status, stats = await call(bms_hub, "GET", f"/api/bms/connections/{creds.connection_id}/stats")
    assert (stats["rejected_total"], stats["errors_24h"], stats["messages_today"]) == (5, 5, 0)
    status, log = await call(
        bms_hub, "GET", f"/api/bms/connections/{creds.connection_id}/activity?type=validation_failed"
    )
    assert log["total"] == 5
    assert {e["severity"] for e in log["entries"]} == {"error"}
    assert "readings[1].timestamp" in log["entries"][1]["message"]
    await bms_hub.hub.store.flush()
    assert _stored(bms_hub, f"bms-{creds.connection_id}.M1") == []
    status, health = await call(bms_hub, "GET", "/api/health")
    assert status == 200, health  # the hub keeps serving
    bms = health["components"]["bms"]
    assert (bms["status"], bms["connections"], bms["errors_24h"]) == ("ok", 1, 5)


async def test_test_button__reports_arrival_and_destination(bms_hub: RunningHub):
    creds = await create_connection(bms_hub)
    base = f"/api/bms/connections/{creds.connection_id}"
    await call(bms_hub, "POST", f"{base}/mappings", {"external_id": "M1", "new_point": {"units": "kW"}})

    status, unmapped = await call(bms_hub, "POST", f"{base}/test", {})
    assert status == 200, unmapped
    assert unmapped["arrived"] is True
    assert unmapped["topic"] == creds.topic
    assert unmapped["readings"][0]["destination"] == "test"
    assert unmapped["readings"][0]["point_id"] is None

    status, mapped = await call(bms_hub, "POST", f"{base}/test", {"point_id": "M1", "value": 2})
    assert mapped["readings"][0]["point_id"] == f"bms-{creds.connection_id}.M1"
    status, listed = await call(bms_hub, "GET", f"{base}/unmapped")
    assert listed["unmapped"] == []  # test readings are reported, never listed or stored
    assert bms_hub.hub.points.latest(f"bms-{creds.connection_id}.M1") is None

    await call(bms_hub, "PATCH", base, {"enabled": False})
    status, disabled = await call(bms_hub, "POST", f"{base}/test", {})
    assert disabled["arrived"] is False


async def test_ingest_with_a_controlled_clock__stats_and_log(tmp_path):
    """The ingest alone (no broker): counts and log entries on the test's clock."""
    clock = Clock()
    store = Store(StoreConfig(commit_interval=3600), tmp_path / "hub.db", Bus(), Supervisor())
    await store.start()
    try:
        connection = Connection(
            "a", "A", BmsType.GENERIC, Transport.WEBSOCKET, "", True, "", "", FIXED, FIXED
        )
        stats = ConnectionStats(clock)
        log = ActivityLog(store, clock)
        registry = PointRegistry(Bus())
        ingest = Ingest(
            {"a": connection}.get, lambda _: stats, MappingTable(), registry, store.add_bucketed, log, clock
        )
        good = payload({"readings": [reading("x", 1, FIXED), reading("y", 2, FIXED)]})
        for _ in range(3):
            ingest.handle(connection, "bms/a/readings", good)
        clock.now += 30
        ingest.handle(connection, "bms/a/readings", b"{}")
        clock.now = FIXED + 3600
        view = stats.view()
        figures = (view.messages_today, view.readings_today, view.last_message_at, view.errors_24h)
        assert figures == (3, 6, FIXED, 1)
        entries, _ = await log.query("a", ActivityFilter())
        assert sorted((e.type, e.timestamp) for e in entries) == [
            (EventType.MESSAGE_RECEIVED, FIXED),
            (EventType.UNMAPPED_POINT, FIXED),
            (EventType.UNMAPPED_POINT, FIXED),
            (EventType.VALIDATION_FAILED, FIXED + 30),
        ]
    finally:
        await store.stop()


async def test_readings_that_cannot_be_converted__logged_as_errors_nothing_stored(bms_hub: RunningHub):
    creds = await create_connection(bms_hub)
    base = f"/api/bms/connections/{creds.connection_id}"
    await call(bms_hub, "POST", f"{base}/mappings", {"external_id": "T", "new_point": {"units": "degC"}})
    point_id = f"bms-{creds.connection_id}.T"
    async with bms_client(bms_hub, creds, "tcp") as client:
        batch = {"readings": [reading("T", 5.0, T0_S, "kW"), reading("T", "warm", T0_S, "degF")]}
        await client.publish(creds.topic, payload(batch), qos=1)
        await client.publish(creds.topic, payload(reading("T", 50.0, T0_S, "degF")), qos=1)

    assert bms_hub.hub.points.latest(point_id).value == pytest.approx(10.0)  # only the convertible one
    _, log = await call(bms_hub, "GET", f"{base}/activity?type=error")
    assert [e["message"] for e in reversed(log["entries"])] == [
        "reading for 'T' dropped: cannot convert kW (power) to degC (temperature)",
        "reading for 'T' dropped: cannot convert 'warm' from degF to degC: not a number",
    ]
    _, stats = await call(bms_hub, "GET", f"{base}/stats")
    assert (stats["messages_today"], stats["readings_today"], stats["errors_24h"]) == (2, 3, 2)
