"""get_config over MQTT against the simulated demo floor: progress at QoS 0, then the devices found."""

from pathlib import Path

import pytest

from tests.conftest import RunningHub, StartHub
from tests.mqtt_api.helpers import PREFIX, inbox, simulator_config

DEMO_DEVICES = ["ahu-1", "ch-1", "ch-2", "meter-1", "vav-1", "vav-2", "vav-3", "vav-4"]
PROGRESS = PREFIX + "command/get_config/progress"


@pytest.fixture
async def running(start_hub: StartHub, tmp_path: Path) -> RunningHub:
    return await start_hub(simulator_config(tmp_path))


async def test_get_config__progress_then_the_devices_found(running: RunningHub):
    async with inbox(running) as box:
        response = await box.call("get_config", {"command_id": "g-1", "integrations": ["simulator"]})
        progress = [m for m in box.seen if m.topic == PROGRESS]

    assert response["status"] == "success", response
    devices = {device["device_id"]: device for device in response["discovered_devices"]}
    assert sorted(devices) == DEMO_DEVICES
    ahu = devices["ahu-1"]
    assert ahu["ip_address"] == "sim://ahu-1"
    assert ahu["name"]
    setpoint = next(o for o in ahu["objects"] if o["point_id"] == "ahu-1.supply_air_setpoint")
    assert (setpoint["units"], setpoint["name"], setpoint["object_type"]) == (
        "°C",
        "supply_air_setpoint",
        "analog",
    )
    assert progress, "no progress message"
    assert {m.qos for m in progress} == {0}
    bodies = [m.json() for m in progress]
    assert {b["command_id"] for b in bodies} == {"g-1"}
    assert {b["operation_id"] for b in bodies} == {response["operation_id"]}
    assert bodies[-1]["progress"] == 100.0
    assert (bodies[-1]["devices_found"], bodies[-1]["total"]) == (8, 8)
    assert [b["progress"] for b in bodies] == sorted(b["progress"] for b in bodies)
    assert any(b["current_device"] in DEMO_DEVICES for b in bodies)


async def test_get_config__polling_interval_is_applied_to_the_devices_found(running: RunningHub):
    async with inbox(running) as box:
        response = await box.call("get_config", {"command_id": "g-2", "polling_interval": 42})
    assert response["status"] == "success"
    assert response["polling_interval"] == 42
    assert {running.hub.points.device(d).poll_interval for d in DEMO_DEVICES} == {42.0}


async def test_get_config__timeout_returns_partial_results_and_honours_ip_addresses(fakes_hub: RunningHub):
    alpha = fakes_hub.fake("alpha")
    alpha.play(alpha.new_device("x"))  # then nothing more: the discovery runs out of time
    body = {"command_id": "g-3", "integrations": ["alpha"], "timeout": 0.3, "ip_addresses": ["10.0.0.9"]}
    async with inbox(fakes_hub) as box:
        response = await box.call("get_config", body)
    assert response["status"] == "timeout", response
    assert "timed out" in response["error"]
    assert [d["device_id"] for d in response["discovered_devices"]] == ["alpha-x"]
    assert response["discovered_devices"][0]["ip_address"] == "10.0.0.1"
    assert alpha.requests[-1].addresses == ("10.0.0.9",)


async def test_get_config__unknown_integration_and_flow_config_are_errors(running: RunningHub):
    async with inbox(running) as box:
        unknown = await box.call("get_config", {"command_id": "g-4", "integrations": ["nope"]})
        flows = await box.call("get_config", {"command_id": "g-5", "flow_config": {"nodes": []}})
    assert unknown["status"] == "error"
    assert "not a loaded integration" in unknown["error"]
    expected = "flow_config.files: expected an object of file name -> YAML text (or null)"
    assert flows == {**flows, "status": "error", "error": expected}
