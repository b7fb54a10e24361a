"""Flows on a running hub with the simulated demo floor: end to end, deploy, versions, rollback, dry run."""

import json
import time
from pathlib import Path

import pytest

from hub.commands import AuditEvent, WriteOutcome
from hub.flows.deployment import FlowFiles
from hub.flows.service import FlowsDeployed
from hub.points import Device, Point, Sample
from hub.store_tables import read_events
from tests.conftest import RunningHub, StartHub
from tests.flows.conftest import Waiter
from tests.http.helpers import ABSENT, call
from tests.http.openapi_check import documented_call

SAT = """\
flow: {id: sat, name: Supply air temperature reset}
nodes:
  - {id: oat, type: point_change, point: ahu-1.outdoor_air_temp}
  - {id: reset, type: scale, in_min: -10, in_max: 25, out_min: 20, out_max: 14}
  - {id: sat_sp, type: point_write, point: ahu-1.supply_air_setpoint}
edges:
  - {from: oat.value, to: reset.value}
  - {from: reset.value, to: sat_sp.value}
"""


def setpoint(flow_id: str, point: str, value: float) -> str:
    return (
        f"flow: {{id: {flow_id}}}\nnodes:\n  - {{id: sp, type: constant, value: {value}}}\n"
        f"  - {{id: out, type: point_write, point: {point}}}\nedges:\n  - {{from: sp.value, to: out.value}}\n"
    )


async def slot(running: RunningHub, point_id: str, priority: int = 10) -> object:
    status, array = await call(running, "GET", f"/api/points/{point_id}/priority")
    assert status == 200, array
    return array["slots"][priority - 1]["value"]


def by(flow_id: str, value: object = ...) -> object:
    return lambda e: (
        e.actor == f"flow:{flow_id}" and e.outcome == WriteOutcome.WRITTEN and value in (..., e.new)
    )


async def test_a_point_change_makes_the_flow_write_to_the_simulated_device(sim_hub: RunningHub, tmp_path):
    audit = Waiter(sim_hub.hub.bus, AuditEvent)
    status, deployed = await call(
        sim_hub, "POST", "/api/config/deploy", {"files": {"sat.yaml": SAT}, "note": "SAT"}
    )
    assert (status, deployed["started"], deployed["author"]) == (200, ["sat"], "admin")
    await audit.until(by("sat"))  # the outdoor temperature it started with

    sim_hub.hub.points.update("ahu-1.outdoor_air_temp", Sample(25.0, time.time()))
    await audit.until(by("sat", 14.0))

    assert await slot(sim_hub, "ahu-1.supply_air_setpoint") == 14.0
    status, traces = await call(sim_hub, "GET", "/api/flows/sat/traces")
    assert [s["node_id"] for s in traces["runs"][-1]["steps"]][-3:] == ["oat", "reset", "sat_sp"]
    assert (tmp_path / "flows" / "sat.yaml").read_text() == SAT


async def test_dry_run_records_writes_and_the_write_path_sees_nothing(sim_hub: RunningHub):
    audit = Waiter(sim_hub.hub.bus, AuditEvent)
    await call(sim_hub, "POST", "/api/config/deploy", {"files": {"sat.yaml": SAT}})
    await audit.until(by("sat"))

    status, state = await call(sim_hub, "POST", "/api/flows/sat/dry-run", {"enabled": True})
    assert (status, state["dry_run"]) == (200, True)
    relinquished = await audit.until(lambda e: e.actor == "flow:sat" and e.new is None)
    since = len(audit.events)
    sim_hub.hub.points.update("ahu-1.outdoor_air_temp", Sample(25.0, time.time()))

    _, recorded = await call(sim_hub, "GET", "/api/flows/sat/dry-run")
    assert recorded["writes"][-1] | {"at": 0} == {
        "at": 0, "point_id": "ahu-1.supply_air_setpoint", "value": 14.0, "priority": 10,
        "outcome": "dry_run", "reason": None,
    }  # fmt: skip
    assert await slot(sim_hub, "ahu-1.supply_air_setpoint") is None  # relinquished, never written again
    assert [e for e in audit.events[since:] if e.actor == "flow:sat"] == []
    assert relinquished.outcome == WriteOutcome.WRITTEN


async def test_deploy_versions_diff_and_rollback(sim_hub: RunningHub, tmp_path):
    deployed = Waiter(sim_hub.hub.bus, FlowsDeployed)
    files = {
        "a.yaml": setpoint("a", "vav-1.zone_setpoint", 21),
        "b.yaml": setpoint("b", "vav-2.zone_setpoint", 22),
    }
    _, first = await call(sim_hub, "POST", "/api/config/deploy", {"files": files, "note": "two zones"})
    runner_a = sim_hub.hub.flows.runner("a")

    _, second = await call(
        sim_hub, "POST", "/api/config/deploy", {"files": {"b.yaml": setpoint("b", "vav-2.zone_setpoint", 23)}}
    )

    assert (second["started"], second["stopped"]) == (["b"], ["b"])  # a was left running
    assert sim_hub.hub.flows.runner("a") is runner_a
    _, versions = await call(sim_hub, "GET", "/api/config/versions")
    assert [(v["version"], v["author"], v["note"]) for v in versions["versions"]] == [
        (first["version"], "admin", "two zones"),
        (second["version"], "admin", ""),
    ]
    _, diff = await call(sim_hub, "GET", f"/api/config/versions/{second['version']}/diff")
    assert diff["flows"] == {"b": ["node sp: value 22 -> 23"]}
    assert (
        "-  - {id: sp, type: constant, value: 22}\n+  - {id: sp, type: constant, value: 23}" in diff["diff"]
    )

    status, rolled = await call(sim_hub, "POST", f"/api/config/versions/{first['version']}/rollback")

    assert (status, rolled["started"], rolled["version"]) == (200, ["b"], second["version"] + 1)
    assert (tmp_path / "flows" / "b.yaml").read_text() == files["b.yaml"]
    audited = await read_events(sim_hub.hub.store, kind="flows_rollback")
    assert [(e.data["author"], e.data["version"], e.data["note"]) for e in audited] == [
        ("admin", rolled["version"], f"rollback to version {first['version']}")
    ]
    assert [e.version for e in deployed.events] == [first["version"], second["version"], rolled["version"]]


async def test_an_invalid_deploy_is_refused_with_every_issue_and_changes_nothing(
    sim_hub: RunningHub, tmp_path
):
    bad = setpoint("a", "vav-1.zone_temp", 21).replace("constant", "konstant")
    status, refused = await call(sim_hub, "POST", "/api/config/deploy", {"files": {"a.yaml": bad}})

    assert status == 400
    assert refused["error"] == "files: 2 errors: nothing was deployed"
    assert [(i["line"], i["node_id"], i["message"]) for i in refused["issues"]] == [
        (3, "sp", "unknown node type 'konstant' (did you mean 'constant'?)"),
        (4, "out", "point: point 'vav-1.zone_temp' is not writable"),
    ]
    assert not (tmp_path / "flows" / "a.yaml").exists()
    _, versions = await call(sim_hub, "GET", "/api/config/versions")
    assert versions["versions"] == []


async def test_bad_requests_name_the_field(sim_hub: RunningHub):
    status, body = await call(sim_hub, "POST", "/api/config/deploy", {"files": {"../x.yaml": "a: 1"}})
    expected = "files: ../x.yaml: expected a .yaml file inside one of the flow folders (blueprints, flows)"
    assert (status, body) == (400, {"error": expected, "issues": []})
    status, body = await call(sim_hub, "POST", "/api/config/validate", {"files": []})
    assert (status, body["error"]) == (
        422,
        "files: expected an object of file name -> YAML text (or null to delete the file)",
    )
    assert await call(sim_hub, "GET", "/api/config/versions/x") == (
        400,
        {"error": "version: expected a version number, got 'x'"},
    )
    assert (await call(sim_hub, "GET", "/api/flows/nope/traces"))[0] == 404
    status, checked = await call(sim_hub, "POST", "/api/config/validate", {"files": {"a.yaml": "a: \x98"}})
    assert (status, [i["message"] for i in checked["issues"]]) == (
        200,
        ["invalid YAML: unacceptable character #x0098"],
    )


async def test_hot_reload_picks_up_a_file_written_on_disk(start_hub: StartHub, flows_config, tmp_path):
    running = await start_hub(flows_config(hot_reload=True, reload_poll_interval=0.1, reload_debounce=0.1))
    deployed = Waiter(running.hub.bus, FlowsDeployed)
    folder = tmp_path / "flows"
    folder.mkdir()

    (folder / "a.yaml").write_text(setpoint("a", "vav-1.zone_setpoint", 21))

    reloaded = await deployed.until(lambda e: e.started == ("a",))
    assert reloaded.author == "files"
    _, status = await call(running, "GET", "/api/execution/status")
    assert [(f["id"], f["state"]) for f in status["flows"]] == [("a", "running")]


async def test_a_flow_set_aside_for_a_missing_point_starts_when_its_device_appears(
    start_hub: StartHub, flows_config, tmp_path
):
    running = await start_hub(flows_config(reload_debounce=0.05))
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "late.yaml").write_text(
        "nodes:\n  - {id: t, type: point_change, point: late.temp}\n  - {id: l, type: log}\n"
        "edges:\n  - {from: t.value, to: l.value}\n"
    )
    _, reloaded = await call(running, "POST", "/api/config/reload")
    assert [(i["line"], i["message"]) for i in reloaded["issues"]] == [
        (2, "point: unknown point 'late.temp'")
    ]
    deployed = Waiter(running.hub.bus, FlowsDeployed)

    running.hub.points.add_device(
        Device("late", "Late device", "simulator"), [Point("late.temp", "late", "temp")]
    )

    rechecked = await deployed.until(lambda e: e.started == ("late",))
    assert (rechecked.author, rechecked.version, rechecked.issues) == ("system", None, ())


async def test_replay_over_the_stored_history(sim_hub: RunningHub):
    audit = Waiter(sim_hub.hub.bus, AuditEvent)
    await call(sim_hub, "POST", "/api/config/deploy", {"files": {"sat.yaml": SAT}})
    live = await audit.until(by("sat"))

    status, replayed = await call(sim_hub, "POST", "/api/flows/sat/replay", {"hours": 1})

    assert (status, replayed["flow_id"], replayed["error"]) == (200, "sat", None)
    assert replayed["samples"] >= 1
    assert live.new in [w["value"] for w in replayed["writes"]]
    assert {w["outcome"] for w in replayed["writes"]} == {"dry_run"}
    assert (await call(sim_hub, "POST", "/api/flows/sat/replay", {"hours": 48}))[0] == 422


async def test_every_answer_is_as_the_openapi_document_says(sim_hub: RunningHub):
    audit = Waiter(sim_hub.hub.bus, AuditEvent)
    files = {"files": {"sat.yaml": SAT}, "note": "SAT"}
    _, deployed = await documented_call(sim_hub, "POST", "/api/config/deploy", files)
    await audit.until(by("sat"))
    sat, version = {"flow_id": "sat"}, {"version": deployed["version"]}
    bad = {"files": {"a.yaml": setpoint("a", "vav-1.zone_temp", 21)}}
    requests = (
        ("GET", "/api/flows/node-types", ABSENT, {}),
        ("POST", "/api/config/validate", bad, {}),
        ("POST", "/api/config/deploy", bad, {}),
        ("GET", "/api/config/current", ABSENT, {}),
        ("GET", "/api/config/versions", ABSENT, {}),
        ("GET", "/api/config/versions/{version}", ABSENT, version),
        ("GET", "/api/config/versions/{version}/diff", ABSENT, version),
        ("GET", "/api/execution/status", ABSENT, {}),
        ("GET", "/api/execution/state", ABSENT, {}),
        ("GET", "/api/execution/logs", ABSENT, {}),
        ("GET", "/api/flows/{flow_id}/traces", ABSENT, sat),
        ("POST", "/api/flows/{flow_id}/dry-run", {"enabled": True}, sat),
        ("GET", "/api/flows/{flow_id}/dry-run", ABSENT, sat),
        ("POST", "/api/flows/{flow_id}/replay", {"hours": 1}, sat),
        ("POST", "/api/execution/flows/{flow_id}/{action}", ABSENT, {**sat, "action": "restart"}),
        ("POST", "/api/execution/{action}", ABSENT, {"action": "stop"}),
        ("POST", "/api/config/reload", ABSENT, {}),
        ("POST", "/api/config/versions/{version}/rollback", ABSENT, version),
        ("GET", "/api/flows/{flow_id}/traces", ABSENT, {"flow_id": "nope"}),
    )
    statuses = [
        (await documented_call(sim_hub, m, route, body, **path))[0] for m, route, body, path in requests
    ]
    assert statuses == [200, 200, 400, *[200] * 15, 404]


def test_a_relative_base_folder_takes_bare_file_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # `bms-hub run` without a config file: relative folders are the current one's
    files = FlowFiles(Path("."), [Path("blueprints"), Path("flows")])

    assert files.path(files.user_key("a.yaml")) == tmp_path / "flows" / "a.yaml"
    with pytest.raises(ValueError, match=r"expected a \.yaml file inside one of the flow folders"):
        files.path("flows/a\0.yaml")


async def test_a_body_that_is_no_storable_text_is_refused_and_nothing_is_written(
    sim_hub: RunningHub, tmp_path
):
    lone_surrogate = json.dumps({"files": {"sat.yaml": SAT}, "note": "\ud800"}).encode()
    status, body = await call(sim_hub, "POST", "/api/config/deploy", data=lone_surrogate)
    assert (status, body["error"].split(":")[0]) == (400, "invalid JSON")
    assert not (tmp_path / "flows").exists()
    status, body = await call(sim_hub, "POST", "/api/config/validate", data=b"[" * 100_000 + b"]" * 100_000)
    assert (status, body["error"].split(":")[0]) == (400, "invalid JSON")


async def test_a_version_number_beyond_any_stored_one_is_a_bad_request(sim_hub: RunningHub):
    assert await call(sim_hub, "GET", f"/api/config/versions/{2**63}") == (
        400,
        {"error": f"version: expected a version number, got '{2**63}'"},
    )
