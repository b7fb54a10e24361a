"""The execution API on a running hub: palette, status, start/stop/restart, logs, isolation, MQTT deploy."""

import time

import pytest

from hub.alarms.model import FlowErrored
from hub.points import Sample
from tests.conftest import RunningHub
from tests.flows.conftest import Waiter
from tests.flows.fake_nodes import Boom
from tests.flows.test_service import setpoint
from tests.http.helpers import call
from tests.mqtt_api.helpers import inbox

BAD = """\
flow: {id: bad}
nodes:
  - {id: oat, type: point_change, point: ahu-1.outdoor_air_temp, initial: false}
  - {id: boom, type: boom}
edges:
  - {from: oat.value, to: boom.in}
"""


@pytest.fixture
def boom(sim_hub: RunningHub):
    """The test node type `boom` (raises on every value) in the running hub's registry."""
    sim_hub.hub.flows.registry.register(Boom, owner="tests")
    yield
    sim_hub.hub.flows.registry.unregister_owner("tests")


async def test_the_palette_lists_every_node_type_with_ports_and_parameters(sim_hub: RunningHub):
    status, body = await call(sim_hub, "GET", "/api/flows/node-types")

    types = {t["type"]: t for t in body["node_types"]}
    assert (status, len(types) >= 25) == (200, True)
    write = types["point_write"]
    assert (write["category"], write["inputs"][0]["name"], write["write_parameters"]) == (
        "output",
        "value",
        ["point"],
    )
    priority = next(p for p in write["parameters"] if p["name"] == "priority")
    assert (priority["required"], priority["default"], priority["minimum"], priority["maximum"]) == (
        False,
        10,
        1,
        16,
    )
    assert all(t["description"] for t in types.values())


async def test_start_stop_restart_one_and_all(sim_hub: RunningHub):
    files = {
        "a.yaml": setpoint("a", "vav-1.zone_setpoint", 21),
        "b.yaml": setpoint("b", "vav-2.zone_setpoint", 22),
    }
    await call(sim_hub, "POST", "/api/config/deploy", {"files": files})

    _, stopped = await call(sim_hub, "POST", "/api/execution/flows/a/stop")
    assert stopped["state"] == "stopped"
    _, status = await call(sim_hub, "GET", "/api/execution/status")
    assert [(f["id"], f["state"]) for f in status["flows"]] == [("a", "stopped"), ("b", "running")]

    _, started = await call(sim_hub, "POST", "/api/execution/start")
    assert [(f["id"], f["state"]) for f in started["flows"]] == [("a", "running"), ("b", "running")]
    runner_b = sim_hub.hub.flows.runner("b")
    await call(sim_hub, "POST", "/api/execution/restart")
    assert sim_hub.hub.flows.runner("b") is not runner_b
    _, state = await call(sim_hub, "GET", "/api/execution/state?flow_id=b")
    assert state["flows"][0]["id"] == "b"
    assert (await call(sim_hub, "POST", "/api/execution/flows/nope/start"))[0] == 404


async def test_a_failing_flow_is_reported_and_the_others_run_on(sim_hub: RunningHub, boom):
    errored = Waiter(sim_hub.hub.bus, FlowErrored)
    files = {"bad.yaml": BAD, "a.yaml": setpoint("a", "vav-1.zone_setpoint", 21)}
    await call(sim_hub, "POST", "/api/config/deploy", {"files": files})

    sim_hub.hub.points.update("ahu-1.outdoor_air_temp", Sample(3.0, time.time()))
    await errored.until(lambda e: e.flow_id == "bad")

    _, status = await call(sim_hub, "GET", "/api/execution/status")
    states = {f["id"]: (f["state"], f["error"]) for f in status["flows"]}
    assert states == {
        "a": ("running", None),
        "bad": ("errored", "node boom raised ZeroDivisionError('boom') on in=3.0"),
    }
    _, logs = await call(sim_hub, "GET", "/api/execution/logs?flow_id=bad")
    assert logs["logs"][-1]["message"] == states["bad"][1]
    (alarm,) = [alarm for alarm in sim_hub.hub.alarms.alarms() if alarm.subject == "bad"]  # its error alarm
    assert alarm.cleared_at is None

    _, restarted = await call(sim_hub, "POST", "/api/execution/flows/bad/restart")

    assert restarted["state"] == "running"
    assert sim_hub.hub.alarms.get(alarm.id).cleared_at is not None  # type: ignore[union-attr]


async def test_get_config_with_flow_config_deploys(sim_hub: RunningHub):
    body = {
        "command_id": "f-1",
        "flow_config": {"files": {"a.yaml": setpoint("a", "vav-3.zone_setpoint", 23)}},
    }
    async with inbox(sim_hub) as box:
        response = await box.call("get_config", body)
        refused = await box.call(
            "get_config", {"command_id": "f-2", "flow_config": {"files": {"b.yaml": "x: 1"}}}
        )

    assert (response["status"], response["flows"]["started"], response["flows"]["author"]) == (
        "success",
        ["a"],
        "admin",
    )
    assert refused["status"] == "error"
    assert (
        refused["flows"]["issues"][0]["message"]
        == "unknown key x (expected flow, use_blueprint, parameters, nodes, edges)"
    )
