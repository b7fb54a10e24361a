"""Flow pages over real HTTP: the list, a version's diff, the designer, and the model -> YAML route."""

import json
import re

import pytest

from tests.conftest import RunningHub, StartHub
from tests.ui_site import add_users, logged_in, ui_config

FLOW = """\
flow:
  id: sp_const
  name: Setpoint constant
nodes:
  - {id: value, type: constant, value: 22, ui: {x: 40, y: 60}}
  - {id: out, type: point_write, point: vav-3.zone_setpoint, priority: 13, ui: {x: 400, y: 60}}
edges:
  - {from: value.value, to: out.value}
"""


@pytest.fixture
async def ui_hub(start_hub: StartHub, tmp_path) -> RunningHub:
    running = await start_hub(ui_config(tmp_path))
    await add_users(running.hub)
    return running


def model(**nodes_changed: dict) -> dict:
    nodes = {
        "value": {"id": "value", "type": "constant", "parameters": {"value": 22}, "ui": {"x": 40, "y": 60}},
        "out": {
            "id": "out",
            "type": "point_write",
            "parameters": {"priority": 13, "point": "vav-3.zone_setpoint"},
            "ui": {"x": 400, "y": 60},
        },
    }
    nodes.update(nodes_changed)
    return {
        "flow": {"id": "sp_const", "name": "Setpoint constant"},
        "nodes": list(nodes.values()),
        "edges": [{"from": "value.value", "to": "out.value"}],
    }


def designer_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="designer-data">(.*?)</script>', html, re.S)
    assert found, html
    return json.loads(found.group(1))


async def test_flow_yaml__the_model_becomes_the_stable_file_and_its_issues_name_their_nodes(
    ui_hub: RunningHub,
):
    async with await logged_in(ui_hub, "otto") as http:
        async with http.post("/flows/yaml", json={"model": model()}) as answer:
            assert answer.status == 200, await answer.text()
            saved = await answer.json()
        assert saved == {"file": "flows/sp_const.yaml", "yaml": FLOW, "valid": True, "issues": []}
        bad = model(out={"id": "out", "type": "point_write", "parameters": {"point": "vav-3.nothing"}})
        async with http.post("/flows/yaml", json={"model": bad}) as answer:
            saved = await answer.json()
        assert not saved["valid"]
        assert [(i["node_id"], i["line"], i["message"]) for i in saved["issues"]] == [
            ("out", 6, "point: unknown point 'vav-3.nothing'")
        ]
        assert ui_hub.hub.flows.checked.files == {}  # nothing was written or deployed


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"model": {"flow": {"id": "a b"}, "nodes": []}}, "model.flow.id: expected 1 to 64 letters"),
        (
            {"model": {"flow": {"id": "a"}, "nodes": [], "edges": [{"from": "x", "to": "y.v"}]}},
            "model.edges[0].from",
        ),
        ({"model": {"flow": {"id": "a"}}}, "model: expected either nodes or use_blueprint"),
    ],
)
async def test_flow_yaml__a_bad_model_is_refused_naming_the_field(ui_hub: RunningHub, body: dict, error: str):
    async with await logged_in(ui_hub, "otto") as http, http.post("/flows/yaml", json=body) as answer:
        assert answer.status == 422
        assert error in (await answer.json())["error"]


async def test_flow_yaml__a_viewer_may_not_save(ui_hub: RunningHub):
    async with (
        await logged_in(ui_hub, "vera") as http,
        http.post("/flows/yaml", json={"model": model()}) as answer,
    ):
        assert answer.status == 403


async def test_pages__list_versions_and_designer_of_a_deployed_flow(ui_hub: RunningHub):
    await ui_hub.hub.flows.deploy({"sp_const.yaml": FLOW}, "otto", "first")
    moved = FLOW.replace("x: 400", "x: 420")
    await ui_hub.hub.flows.deploy({"sp_const.yaml": moved}, "otto", "moved")
    async with await logged_in(ui_hub, "vera") as http:
        async with http.get("/flows") as answer:
            html = await answer.text()
        assert answer.status == 200
        for shown in ('href="/flows/sp_const/edit"', "running", "moved", "first"):
            assert shown in html
        async with http.get("/flows/versions/2") as answer:
            html = await answer.text()
        assert '<span class="del">-  - {id: out' in html
        assert '<span class="add">+  - {id: out' in html
        assert "Roll back to version 2" not in html  # the version running now
        async with http.get("/flows/versions/1") as answer:
            assert "Read-only: your role is viewer." in await answer.text()  # rolling back is an operator's
        async with http.get("/flows/sp_const/edit") as answer:
            data = designer_data(await answer.text())
        assert (data["file"], data["running"]) == ("flows/sp_const.yaml", True)
        assert data["model"]["nodes"][1] == {
            "id": "out",
            "type": "point_write",
            "parameters": {"point": "vav-3.zone_setpoint", "priority": 13},
            "ui": {"x": 420, "y": 60},
        }
        assert {entry["type"] for entry in data["palette"]} >= {"constant", "point_write"}
        for missing in ("/flows/nothing/edit", "/flows/versions/99"):
            async with http.get(missing) as answer:
                assert answer.status == 404, missing


async def test_designer__an_instance_edits_its_blueprint_inputs_not_its_nodes(ui_hub: RunningHub):
    blueprint = """\
blueprint:
  name: Constant setpoint
  inputs:
    target: {type: point, description: the setpoint}
    value: {type: number, default: 21}
nodes:
  - {id: v, type: constant, value: !input value}
  - {id: w, type: point_write, point: !input target}
edges:
  - {from: v.value, to: w.value}
"""
    instance = "flow: {id: vav_4_sp}\nuse_blueprint:\n  path: const_sp.yaml\n"
    instance += "  inputs: {target: vav-4.zone_setpoint}\n"
    await ui_hub.hub.flows.deploy({"const_sp.yaml": blueprint, "vav_4_sp.yaml": instance}, "otto")
    async with await logged_in(ui_hub, "vera") as http, http.get("/flows/vav_4_sp/edit") as answer:
        data = designer_data(await answer.text())
    assert data["model"]["use_blueprint"] == {
        "path": "const_sp.yaml",
        "inputs": {"target": "vav-4.zone_setpoint"},
    }
    assert [(i["name"], i["type"], i["required"]) for i in data["blueprint"]["inputs"]] == [
        ("target", "point", True),
        ("value", "number", False),
    ]
    assert [node["id"] for node in data["blueprint"]["nodes"]] == ["v", "w"]
    async with await logged_in(ui_hub, "otto") as http:
        changed = {
            "flow": {"id": "vav_4_sp"},
            "use_blueprint": {
                "path": "const_sp.yaml",
                "inputs": {"target": "vav-4.zone_setpoint", "value": 19},
            },
        }
        async with http.post("/flows/yaml", json={"model": changed, "file": "flows/vav_4_sp.yaml"}) as answer:
            saved = await answer.json()
    assert saved["valid"], saved
    assert saved["yaml"].endswith("  inputs:\n    target: vav-4.zone_setpoint\n    value: 19\n")


async def test_flow_list__a_flow_with_errors_is_listed_invalid_with_its_issues(ui_hub: RunningHub):
    broken = FLOW.replace("vav-3.zone_setpoint", "vav-3.nothing")
    (ui_hub.hub.flows.files.base / "flows").mkdir(exist_ok=True)
    (ui_hub.hub.flows.files.base / "flows" / "sp_const.yaml").write_text(broken)
    await ui_hub.hub.flows.reload("test")
    async with await logged_in(ui_hub, "vera") as http, http.get("/flows") as answer:
        html = await answer.text()
    assert '<span class="badge s-error">invalid</span>' in html
    assert "line 6: node out: point: unknown point &#39;vav-3.nothing&#39;" in html
