"""REST discovery: start (202), follow, list, cancel; stored results served after a restart."""

import pytest

from hub.integration import DiscoveryProgress, DiscoveryRequest
from tests.conftest import RunningHub, StartHub, fakes_config, finished, until
from tests.http.helpers import call


async def test_start__202_and_the_operation_then_its_results(fakes_hub: RunningHub):
    alpha, beta = fakes_hub.fake("alpha"), fakes_hub.fake("beta")
    body = {"integrations": ["alpha"], "low_instance": 10, "high_instance": 20, "addresses": ["10.0.0.5"]}

    async with fakes_hub.http() as session, session.post("/api/devices/discover", json=body) as response:
        assert response.status == 202
        started = await response.json()
        location = response.headers["Location"]
    operation_id = started["operation_id"]

    assert location == f"/api/devices/discover/{operation_id}"
    assert started["state"] == "running"
    assert started["request"] == {
        "low_instance": 10,
        "high_instance": 20,
        "addresses": ["10.0.0.5"],
        "timeout": 30.0,
    }
    assert [part["domain"] for part in started["integrations"]] == ["alpha"]
    alpha.play(DiscoveryProgress(25.0, current="10.0.0.5", message="asking"))
    await until(fakes_hub.hub.discovery, operation_id, lambda op: op.percent == 25.0)
    assert alpha.requests == [DiscoveryRequest(10, 20, ("10.0.0.5",), 30.0)]
    assert beta.requests == []
    status, running = await call(fakes_hub, "GET", location)
    assert status == 200
    assert (running["state"], running["percent"], running["current"]) == ("running", 25.0, "10.0.0.5")
    assert running["integrations"] == [
        {
            "domain": "alpha",
            "state": "running",
            "percent": 25.0,
            "current": "10.0.0.5",
            "message": "asking",
            "devices": 0,
            "error": None,
        }
    ]

    alpha.play(alpha.new_device("x"), None)
    await finished(fakes_hub.hub.discovery, operation_id)
    status, done = await call(fakes_hub, "GET", location)
    assert status == 200
    assert (done["state"], done["percent"], done["device_count"]) == ("completed", 100.0, 1)
    assert done["started_at"].endswith("Z")
    assert done["finished_at"].endswith("Z")
    (device,) = done["devices"]
    assert {k: device[k] for k in ("id", "name", "integration", "address")} == {
        "id": "alpha-x",
        "name": "found x",
        "integration": "alpha",
        "address": "10.0.0.1",
    }
    setpoint = next(point for point in device["points"] if point["name"] == "setpoint")
    assert setpoint == {
        "id": "alpha-x.setpoint",
        "device_id": "alpha-x",
        "name": "setpoint",
        "kind": "analog",
        "units": "°C",
        "writable": True,
        "limits": {"minimum": 10, "maximum": 30, "states": None},
        "poll_interval": None,
        "cov_increment": None,
        "min_write_interval": 0.0,
        "address": "",
    }


async def test_start__no_body_means_every_loaded_integration(fakes_hub: RunningHub):
    status, started = await call(fakes_hub, "POST", "/api/devices/discover")
    assert status == 202
    assert [part["domain"] for part in started["integrations"]] == ["alpha", "beta"]
    assert started["request"]["timeout"] == 30.0
    await fakes_hub.hub.discovery.cancel(started["operation_id"])
    assert fakes_hub.fake("alpha").requests == [DiscoveryRequest()]


async def test_list__newest_first_without_devices(fakes_hub: RunningHub):
    alpha = fakes_hub.fake("alpha")
    alpha.play(alpha.new_device("x"), None, None)
    ids = []
    for _ in range(2):
        _, started = await call(fakes_hub, "POST", "/api/devices/discover", {"integrations": ["alpha"]})
        ids.append(started["operation_id"])
        await finished(fakes_hub.hub.discovery, ids[-1])

    status, body = await call(fakes_hub, "GET", "/api/devices/discover")

    assert status == 200
    assert [op["operation_id"] for op in body["operations"]] == ids[::-1]
    assert [op["device_count"] for op in body["operations"]] == [0, 1]
    assert all("devices" not in op for op in body["operations"])


async def test_cancel__answers_the_ended_operation(fakes_hub: RunningHub):
    alpha = fakes_hub.fake("alpha")
    alpha.play(alpha.new_device("x"))
    _, started = await call(fakes_hub, "POST", "/api/devices/discover", {"integrations": ["alpha"]})
    operation_id = started["operation_id"]
    await until(fakes_hub.hub.discovery, operation_id, lambda op: bool(op.devices))

    status, cancelled = await call(fakes_hub, "POST", f"/api/devices/discover/{operation_id}/cancel")

    assert status == 200
    assert (cancelled["state"], cancelled["device_count"]) == ("cancelled", 1)
    assert cancelled["integrations"][0]["state"] == "cancelled"
    again = await call(fakes_hub, "POST", f"/api/devices/discover/{operation_id}/cancel")
    assert again == (200, cancelled)


async def test_busy_integration__409(fakes_hub: RunningHub):
    _, started = await call(fakes_hub, "POST", "/api/devices/discover", {"integrations": ["beta"]})

    status, body = await call(fakes_hub, "POST", "/api/devices/discover", {})

    assert status == 409
    assert body == {"error": f"already discovering: 'beta' (operation {started['operation_id']})"}
    await fakes_hub.hub.discovery.cancel(started["operation_id"])


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"integrations": ["nope"]}, "integrations: not a loaded integration: 'nope' (loaded: alpha, beta)"),
        ({"integrations": []}, "integrations: expected at least one integration"),
        ({"integrations": ["alpha", 3]}, "integrations[1]: expected a non-empty string"),
        ({"low_instance": -1}, "low_instance: expected int between 0 and 4194303"),
        ({"high_instance": 1.5}, "high_instance: expected int between 0 and 4194303"),
        ({"low_instance": 9, "high_instance": 3}, "high_instance: must not be below low_instance"),
        ({"addresses": ["10.0.0.1", 7]}, "addresses[1]: expected a non-empty string"),
        ({"timeout": 0}, "timeout: expected a number of seconds between 0.1 and 3600"),
        ({"timeout": True}, "timeout: expected a number of seconds between 0.1 and 3600"),
        ({"timout": 5}, "timout: unknown field"),
        ([], "body: expected a JSON object"),
    ],
)
async def test_start__invalid_body_422_naming_the_field(fakes_hub: RunningHub, body, error):
    assert await call(fakes_hub, "POST", "/api/devices/discover", body) == (422, {"error": error})
    assert fakes_hub.hub.discovery.operations() == []


async def test_start__invalid_json_400(fakes_hub: RunningHub):
    status, body = await call(fakes_hub, "POST", "/api/devices/discover", data=b'{"integrations": [')
    assert status == 400
    assert body["error"].startswith("invalid JSON: ")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/devices/discover/nope"), ("POST", "/api/devices/discover/nope/cancel")],
)
async def test_unknown_operation__404(fakes_hub: RunningHub, method, path):
    assert await call(fakes_hub, method, path) == (404, {"error": "no discovery operation 'nope'"})


async def test_stored_results_are_served_after_a_restart(start_hub: StartHub, fake_plugins, tmp_path):
    config = fakes_config(tmp_path)
    first = await start_hub(config)
    first.fake("beta").play(first.fake("beta").new_device("kept"), None)
    _, started = await call(first, "POST", "/api/devices/discover", {"integrations": ["beta"]})
    operation_id = started["operation_id"]
    await finished(first.hub.discovery, operation_id)
    _, before = await call(first, "GET", f"/api/devices/discover/{operation_id}")
    await first.server.close()

    second = await start_hub(config)
    status, after = await call(second, "GET", f"/api/devices/discover/{operation_id}")

    assert status == 200
    assert after == before
    assert [device["id"] for device in after["devices"]] == ["beta-kept"]
