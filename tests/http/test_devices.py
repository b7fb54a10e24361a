"""REST devices: the registry's devices with their health, and each device's points ("objects")."""

import asyncio
import dataclasses
import time

from hub.points import DeviceStatus, DeviceStatusChanged, Quality, Sample
from tests.conftest import WAIT_S, RunningHub, StartHub, fakes_config
from tests.http.helpers import call


async def test_list__every_device_with_its_integration(fakes_hub: RunningHub):
    status, body = await call(fakes_hub, "GET", "/api/devices")

    assert status == 200
    assert [(d["id"], d["integration"], d["points"]) for d in body["devices"]] == [
        ("alpha-1", "alpha", 4),
        ("alpha-2", "alpha", 4),
        ("beta-1", "beta", 4),
    ]
    assert set(body["devices"][0]) == {
        "id", "name", "integration", "address", "vendor", "model", "poll_interval",
        "status", "last_seen", "error_count", "last_error", "points", "polling",
    }  # fmt: skip


async def test_list__status_last_seen_and_errors_from_polling(start_hub: StartHub, fake_plugins, tmp_path):
    config = fakes_config(tmp_path)
    running = await start_hub(
        dataclasses.replace(
            config,
            integrations={"alpha": {"devices": 2, "poll_interval": 0.1, "unreachable": ["alpha-2"]}},
        )
    )
    states: dict[str, DeviceStatus] = {}
    settled = asyncio.Event()

    def changed(event: DeviceStatusChanged) -> None:
        states[event.device.id] = event.state.status
        if states == {"alpha-1": DeviceStatus.ONLINE, "alpha-2": DeviceStatus.OFFLINE}:
            settled.set()

    running.hub.bus.subscribe(DeviceStatusChanged, changed)
    for device in running.hub.points.devices():  # a first poll may have finished before the subscription
        changed(DeviceStatusChanged(device, running.hub.points.device_state(device.id)))
    async with asyncio.timeout(WAIT_S):
        await settled.wait()

    _, body = await call(running, "GET", "/api/devices")

    online, offline = body["devices"]
    assert (online["status"], online["last_error"]) == ("online", None)
    assert online["last_seen"].endswith("Z")
    assert online["polling"]["cycles"] >= 1
    assert online["polling"]["read_errors"] == 0
    assert (offline["status"], offline["last_seen"]) == ("offline", None)
    assert offline["error_count"] >= 1
    assert offline["last_error"] == "no answer from 10.0.0.2"
    assert offline["polling"]["consecutive_errors"] >= 1
    assert offline["polling"]["retry_delay"] > 0


async def test_get__one_device(fakes_hub: RunningHub):
    _, listed = await call(fakes_hub, "GET", "/api/devices")
    status, body = await call(fakes_hub, "GET", "/api/devices/beta-1")
    assert status == 200
    assert body["id"] == "beta-1"
    assert body.keys() == listed["devices"][2].keys()


async def test_objects__points_with_latest_value_quality_and_stale(fakes_hub: RunningHub):
    fake = fakes_hub.fake("alpha")
    fake.devices["alpha-1"].values["alpha-1.p0"] = 21.5
    fake.fixed["alpha-1.p1"] = Sample(None, time.time(), Quality.BAD, "sensor open")
    fake.fixed["alpha-1.setpoint"] = Sample(18.0, time.time() - 4 * 3600, Quality.UNCERTAIN, "cached")
    await fakes_hub.hub.poller.read_now([p.id for p in fakes_hub.hub.points.points("alpha-1")])

    status, body = await call(fakes_hub, "GET", "/api/devices/alpha-1/objects")

    assert status == 200
    assert body["device_id"] == "alpha-1"
    objects = {point["id"]: point for point in body["objects"]}
    assert list(objects) == ["alpha-1.p0", "alpha-1.p1", "alpha-1.setpoint", "alpha-1.enable"]
    p0 = objects["alpha-1.p0"]
    assert (p0["value"], p0["quality"], p0["reason"], p0["stale"]) == (21.5, "good", None, False)
    assert (p0["units"], p0["writable"], p0["kind"]) == ("°C", False, "analog")
    assert p0["timestamp"].endswith("Z")
    p1 = objects["alpha-1.p1"]
    assert (p1["value"], p1["quality"], p1["reason"], p1["stale"]) == (None, "bad", "sensor open", False)
    setpoint = objects["alpha-1.setpoint"]
    assert (setpoint["value"], setpoint["quality"], setpoint["stale"]) == (18.0, "uncertain", True)
    assert setpoint["writable"] is True
    assert setpoint["limits"] == {"minimum": 10, "maximum": 30, "states": None}
    assert objects["alpha-1.enable"]["kind"] == "binary"


async def test_unknown_device__404(fakes_hub: RunningHub):
    for path in ("/api/devices/nope", "/api/devices/nope/objects"):
        assert await call(fakes_hub, "GET", path) == (404, {"error": "unknown device 'nope'"})
