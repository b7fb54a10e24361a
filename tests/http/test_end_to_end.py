"""The REST API end to end against the simulator integration (the demo office floor)."""

import dataclasses
from pathlib import Path

import pytest

from hub.commands import AuditEvent, WriteOutcome, WriteSource
from tests.conftest import RunningHub, StartHub, finished, make_config
from tests.http.helpers import call

DEMO_DEVICES = ["ahu-1", "vav-1", "vav-2", "vav-3", "vav-4", "meter-1", "ch-1", "ch-2"]


@pytest.fixture
async def simulator_hub(start_hub: StartHub, tmp_path: Path) -> RunningHub:
    """A hub simulating the demo floor at 60 times wall time."""
    config = make_config(tmp_path)
    integrations = {"simulator": {"scenario": "demo", "time_scale": 60}}
    return await start_hub(dataclasses.replace(config, integrations=integrations))


@pytest.fixture
def audit(simulator_hub: RunningHub) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    simulator_hub.hub.bus.subscribe(AuditEvent, events.append)
    return events


async def test_discover_the_demo_floor(simulator_hub: RunningHub):
    status, started = await call(
        simulator_hub, "POST", "/api/devices/discover", {"integrations": ["simulator"]}
    )
    assert status == 202
    await finished(simulator_hub.hub.discovery, started["operation_id"])

    _, done = await call(simulator_hub, "GET", f"/api/devices/discover/{started['operation_id']}")

    assert (done["state"], done["percent"]) == ("completed", 100.0)
    assert sorted(device["id"] for device in done["devices"]) == sorted(DEMO_DEVICES)
    ahu = next(device for device in done["devices"] if device["id"] == "ahu-1")
    setpoint = next(point for point in ahu["points"] if point["id"] == "ahu-1.supply_air_setpoint")
    assert (setpoint["writable"], setpoint["units"], setpoint["limits"]["minimum"]) == (True, "°C", 10)


async def test_devices_and_objects(simulator_hub: RunningHub):
    _, listed = await call(simulator_hub, "GET", "/api/devices")
    assert sorted(device["id"] for device in listed["devices"]) == sorted(DEMO_DEVICES)
    assert {device["integration"] for device in listed["devices"]} == {"simulator"}

    await call(simulator_hub, "POST", "/api/points/read", {"point_ids": ["vav-1.zone_temp"]})
    _, objects = await call(simulator_hub, "GET", "/api/devices/vav-1/objects")
    zone_temp = next(point for point in objects["objects"] if point["id"] == "vav-1.zone_temp")
    assert (zone_temp["units"], zone_temp["writable"], zone_temp["quality"], zone_temp["stale"]) == (
        "°C",
        False,
        "good",
        False,
    )
    assert 10 < zone_temp["value"] < 35


async def test_write_beyond_the_limits_is_refused_and_audited(simulator_hub: RunningHub, audit):
    body = {"point_id": "ahu-1.supply_air_setpoint", "value": 35.0}

    status, result = await call(simulator_hub, "POST", "/api/points/write", body)

    assert status == 422
    assert (result["outcome"], result["reason"]) == ("refused", "35.0 is above the maximum 30")
    assert (result["refusal"], result["error"]) == ("bad_value", "value: 35.0 is above the maximum 30")
    (event,) = audit
    assert (event.actor, event.source, event.outcome, event.point_id, event.new) == (
        "admin",
        WriteSource.REST,
        WriteOutcome.REFUSED,
        "ahu-1.supply_air_setpoint",
        35.0,
    )


@pytest.mark.parametrize(
    ("point_id", "value"),
    [("ahu-1.supply_air_setpoint", 18.5), ("ahu-1.fan_command", False), ("vav-1.zone_setpoint", 23.0)],
)
async def test_write_within_the_limits_reads_back(simulator_hub: RunningHub, audit, point_id, value):
    status, result = await call(
        simulator_hub, "POST", "/api/points/write", {"point_id": point_id, "value": value, "priority": 9}
    )

    assert status == 200, result
    assert (result["outcome"], result["verified"], result["new"]) == ("written", True, value)
    _, read = await call(simulator_hub, "POST", "/api/points/read", {"point_ids": [point_id]})
    assert read["samples"][point_id]["value"] == value
    _, latest = await call(simulator_hub, "GET", f"/api/data/latest?points={point_id}")
    assert latest["values"] == {point_id: value}
    assert [(event.actor, event.outcome) for event in audit] == [("admin", WriteOutcome.WRITTEN)]


async def test_integrations_lists_the_simulator(simulator_hub: RunningHub):
    _, body = await call(simulator_hub, "GET", "/api/integrations")
    simulator = next(entry for entry in body["integrations"] if entry["domain"] == "simulator")
    assert (simulator["installed"], simulator["state"], simulator["health"]["status"]) == (
        True,
        "loaded",
        "ok",
    )
    assert simulator["health"]["devices"] == len(DEMO_DEVICES)
