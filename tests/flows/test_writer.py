"""The designer's YAML: stable key order, one line per node, and the `ui` position the loader accepts."""

import difflib
from pathlib import Path

from hub.flows.nodes import builtin_registry
from hub.flows.palette import palette
from hub.flows.writer import from_yaml, to_yaml
from tests.flows.helpers import flow, load

REGISTRY = builtin_registry()


def model() -> dict:
    return {
        "flow": {"id": "reset", "name": "Reset: supply air", "description": ""},
        "parameters": {"low": 14},
        "nodes": [
            # parameters out of schema order, and one the schema does not know (kept, after the others)
            {"id": "oat", "type": "point_change", "parameters": {"initial": False, "point": "ahu-1.oat"}},
            {
                "id": "sp",
                "type": "point_write",
                "parameters": {
                    "relinquish_on_stop": True,
                    "note": "x",
                    "priority": 9,
                    "point": "ahu-1.sat_sp",
                },
                "ui": {"x": 300.4, "y": 80},
            },
        ],
        "edges": [{"from": "oat.value", "to": "sp.value"}, {"from": "oat.good", "to": "sp.value"}],
    }


def test_to_yaml__keys_in_schema_order_one_line_per_node_edges_sorted():
    assert to_yaml(model(), REGISTRY) == (
        "flow:\n"
        "  id: reset\n"
        "  name: 'Reset: supply air'\n"
        "parameters:\n"
        "  low: 14\n"
        "nodes:\n"
        "  - {id: oat, type: point_change, point: ahu-1.oat, initial: false}\n"
        "  - {id: sp, type: point_write, point: ahu-1.sat_sp, priority: 9, relinquish_on_stop: true, note: x,"
        " ui: {x: 300, y: 80}}\n"
        "edges:\n"
        "  - {from: oat.good, to: sp.value}\n"
        "  - {from: oat.value, to: sp.value}\n"
    )


def test_to_yaml__moving_one_node_changes_exactly_one_line():
    before = to_yaml(model(), REGISTRY)
    moved = model()
    moved["nodes"][1]["ui"] = {"x": 340, "y": 120}
    after = to_yaml(moved, REGISTRY)
    changed = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == [
        "-  - {id: sp, type: point_write, point: ahu-1.sat_sp, priority: 9, relinquish_on_stop: true,"
        " note: x, ui: {x: 300, y: 80}}",
        "+  - {id: sp, type: point_write, point: ahu-1.sat_sp, priority: 9, relinquish_on_stop: true,"
        " note: x, ui: {x: 340, y: 120}}",
    ]


def test_to_yaml__the_same_model_always_gives_the_same_text_and_reads_back():
    text = to_yaml(model(), REGISTRY)
    again = from_yaml(text, Path("flows/reset.yaml"))
    assert to_yaml(again, REGISTRY) == text


def test_to_yaml__an_instance_writes_its_blueprint_and_inputs():
    instance = {
        "flow": {"id": "vav_1", "name": "VAV 1", "description": ""},
        "use_blueprint": {
            "path": "../blueprints/vav.yaml",
            "inputs": {"zone_temp": "vav-1.zone_temp", "setpoint": 21},
        },
    }
    text = to_yaml(instance, REGISTRY)
    assert text == (
        "flow:\n  id: vav_1\n  name: VAV 1\n"
        "use_blueprint:\n  path: ../blueprints/vav.yaml\n"
        "  inputs:\n    zone_temp: vav-1.zone_temp\n    setpoint: 21\n"
    )
    assert from_yaml(text, Path("flows/vav_1.yaml"))["use_blueprint"] == instance["use_blueprint"]


def test_loader__ui_is_a_position_kept_out_of_the_parameters_and_the_fingerprint():
    text = "nodes:\n  - {id: a, type: const, value: 1, ui: {x: 10, y: 20.5}}\n"
    spec = flow(text)
    assert (dict(spec.nodes[0].params), dict(spec.nodes[0].ui)) == ({"value": 1}, {"x": 10, "y": 20.5})
    assert flow(text.replace("x: 10", "x: 99")).fingerprint == spec.fingerprint  # moving restarts nothing


def test_loader__a_bad_ui_is_an_error_on_its_line():
    loaded = load({"flows/t.yaml": "nodes:\n  - {id: a, type: const, ui: {x: left}}\n"})
    assert [str(issue) for issue in loaded.issues] == [
        "/site/flows/t.yaml:2: flow t: ui: expected {x: number, y: number} (the designer's layout)"
    ]


def test_palette__enum_parameters_list_their_choices():
    compare = next(entry for entry in palette(REGISTRY) if entry["type"] == "compare")
    operator = next(param for param in compare["parameters"] if param["name"] == "operator")
    assert operator["enum"] == [">", ">=", "<", "<=", "==", "!="]


def test_from_yaml__dates_become_iso_text_the_schedule_reads_the_same():
    text = "nodes:\n  - {id: s, type: schedule, schedule: {holidays: [2026-12-25, 2026-12-28..2026-12-30]}}\n"
    node = from_yaml(text, Path("flows/s.yaml"))["nodes"][0]
    assert node["parameters"]["schedule"]["holidays"] == ["2026-12-25", "2026-12-28..2026-12-30"]
    written = to_yaml({"flow": {"id": "s"}, "nodes": [node], "edges": []}, REGISTRY)
    assert "holidays: ['2026-12-25', 2026-12-28..2026-12-30]" in written


def test_the_shipped_instances_read_and_written_again_run_the_same():
    repo = Path(__file__).resolve().parents[2]
    files = {
        path.relative_to(repo).as_posix(): path.read_text() for path in (repo / "blueprints").rglob("*.yaml")
    }
    rewritten = {
        key: to_yaml(from_yaml(text, Path(key)), REGISTRY)
        if key.startswith("blueprints/instances/")
        else text
        for key, text in files.items()
    }
    before, after = load(files, repo), load(rewritten, repo)
    assert (after.issues, sorted(after.flows)) == ([], sorted(before.flows))
    assert len(before.flows) >= 5
    for flow_id, spec in before.flows.items():
        assert after.flows[flow_id].fingerprint == spec.fingerprint, flow_id
