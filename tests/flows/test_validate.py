"""Validation reports every problem at once, each with file:line, flow and node."""

from pathlib import Path

import pytest

from hub.flows.deployment import check
from hub.flows.model import Severity
from hub.points import DeviceState, DeviceStatus
from tests.flows.fake_nodes import fake_registry
from tests.flows.helpers import new_points

BASE = Path("/site")
GOOD = """\
flow: {id: good}
nodes:
  - {id: temp, type: watch, point: dev.temp}
  - {id: out, type: write, point: dev.out}
edges:
  - {from: temp.value, to: out.in}
"""


def issues(files: dict[str, str], offline: bool = False) -> list[tuple[str, str, str | None, str, str]]:
    points = new_points()
    if offline:
        points.set_device_state("dev", DeviceState(DeviceStatus.OFFLINE))
    checked = check(files, BASE, fake_registry(), points)
    return [
        (str(i.mark), i.flow_id, i.node_id, i.message, str(i.severity))
        for i in sorted(
            checked.issues, key=lambda i: (str(i.mark.file), i.mark.line or 0) if i.mark else ("", 0)
        )
    ]


def test_a_valid_flow_has_no_issues():
    checked = check({"flows/good.yaml": GOOD}, BASE, fake_registry(), new_points())
    assert (checked.issues, sorted(checked.runnable)) == ((), ["good"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "nodes:\n  - {id: a, type: teleport}\n",
            (
                "/site/flows/f.yaml:2",
                "f",
                "a",
                "unknown node type 'teleport' (the types are listed by GET /api/flows/node-types)",
            ),
        ),
        (
            "nodes:\n  - {id: a, type: gain, factor: lots}\n",
            ("/site/flows/f.yaml:2", "f", "a", "bad parameter factor: expected float"),
        ),
        (
            "nodes:\n  - id: a\n    type: gain\n    gain: 2\n",
            ("/site/flows/f.yaml:4", "f", "a", "bad parameter gain: unknown parameter"),
        ),
        (
            "nodes:\n  - {id: a, type: gain}\nedges:\n  - {from: a.out, to: b.in}\n",
            ("/site/flows/f.yaml:4", "f", "b", "dangling edge: no node b"),
        ),
        (
            "nodes:\n  - {id: a, type: gain}\n  - {id: b, type: gain}\n"
            "edges:\n  - {from: a.result, to: b.in}\n",
            (
                "/site/flows/f.yaml:5",
                "f",
                "a",
                "dangling edge: gain has no output port 'result' (outputs: out)",
            ),
        ),
        (
            "nodes:\n  - {id: a, type: is_high, above: 1}\n  - {id: b, type: gain}\n"
            "edges:\n  - {from: a.out, to: b.in}\n",
            ("/site/flows/f.yaml:5", "f", "b", "port type mismatch: a.out gives boolean, b.in takes number"),
        ),
        (
            "nodes:\n  - {id: a, type: gain}\n  - {id: b, type: gain}\n"
            "edges:\n  - {from: a.out, to: b.in}\n  - {from: b.out, to: a.in}\n",
            ("/site/flows/f.yaml:2", "f", "a", "cycle a -> b -> a is not broken by a delay or state node"),
        ),
        (
            "nodes:\n  - {id: a, type: watch, point: dev.nothing}\n",
            ("/site/flows/f.yaml:2", "f", "a", "point: unknown point 'dev.nothing'"),
        ),
        (
            "nodes:\n  - {id: a, type: write, point: dev.temp}\n",
            ("/site/flows/f.yaml:2", "f", "a", "point: point 'dev.temp' is not writable"),
        ),
        (
            "nodes:\n  - {id: a, type: gain}\n  - {id: a, type: gain}\n",
            ("/site/flows/f.yaml:3", "f", "a", "duplicate node id"),
        ),
        (
            "nodes:\n  - {id: a, type: gian}\n",
            ("/site/flows/f.yaml:2", "f", "a", "unknown node type 'gian' (did you mean 'gain'?)"),
        ),
        (
            "nodes:\n  - {id: a, type: gain\n",
            (
                "/site/flows/f.yaml:3",
                "f",
                None,
                "invalid YAML: expected ',' or '}', but got '<stream end>' "
                "(while parsing a flow mapping that starts at line 2)",
            ),
        ),
    ],
)
def test_each_error_class__invalid(text, expected):
    assert issues({"flows/f.yaml": text}) == [(*expected, "error")]


def test_a_delay_breaks_a_cycle__valid():
    text = (
        "nodes:\n  - {id: a, type: gain}\n  - {id: b, type: delay, delay: 1s}\n"
        "edges:\n  - {from: a.out, to: b.in}\n  - {from: b.out, to: a.in}\n"
    )
    assert issues({"flows/f.yaml": text}) == []


def test_an_offline_device_is_a_warning_and_the_flow_runs():
    checked = check({"flows/good.yaml": GOOD}, BASE, fake_registry(), _offline())
    assert [(str(i.mark), i.node_id, i.severity) for i in checked.issues] == [
        ("/site/flows/good.yaml:3", "temp", Severity.WARNING),
        ("/site/flows/good.yaml:4", "out", Severity.WARNING),
    ]
    assert "device 'dev' of point 'dev.temp' is offline" in checked.issues[0].message
    assert sorted(checked.runnable) == ["good"]


def _offline():
    points = new_points()
    points.set_device_state("dev", DeviceState(DeviceStatus.OFFLINE))
    return points


def test_every_error_is_reported_at_once_and_only_the_bad_flow_is_set_aside():
    bad = (
        "flow: {id: bad}\nnodes:\n  - {id: a, type: teleport}\n  - {id: b, type: gain, factor: x}\n"
        "edges:\n  - {from: b.out, to: c.in}\n"
    )
    checked = check({"flows/bad.yaml": bad, "flows/good.yaml": GOOD}, BASE, fake_registry(), new_points())
    assert [(i.mark.line, i.node_id) for i in checked.issues if i.mark] == [(3, "a"), (6, "c"), (4, "b")]
    assert (sorted(checked.runnable), sorted(checked.loaded.set_aside)) == (["good"], ["bad"])
    assert str(checked.issues[0]).startswith("/site/flows/bad.yaml:3: flow bad: node a: unknown node type")


BLUEPRINT = """\
blueprint:
  name: Gain to a point
  inputs:
    source: {type: point, description: the point read}
    target: {type: point, description: the point written}
    factor: {type: number, default: 2}
nodes:
  - {id: temp, type: watch, point: !input source}
  - {id: scale, type: gain, factor: !input factor}
  - {id: out, type: write, point: !input target}
edges:
  - {from: temp.value, to: scale.in}
  - {from: scale.out, to: out.in}
"""


def test_blueprint_inputs__invalid():
    instance = (
        "flow: {id: one}\nuse_blueprint:\n  path: ../blueprints/gain.yaml\n  inputs:\n"
        "    source: dev.temp\n    factor: lots\n    colour: red\n"
    )
    assert issues({"blueprints/gain.yaml": BLUEPRINT, "flows/one.yaml": instance}) == [
        (
            "/site/flows/one.yaml:3",
            "one",
            None,
            "missing blueprint input target (point: the point written)",
            "error",
        ),
        ("/site/flows/one.yaml:6", "one", None, "input factor: expected a number", "error"),
        (
            "/site/flows/one.yaml:7",
            "one",
            None,
            "unknown blueprint input colour (expected one of: source, target, factor)",
            "error",
        ),
    ]


def test_a_blueprint_instance_substitutes_its_inputs__valid():
    instance = (
        "flow: {id: one, name: One}\nuse_blueprint:\n  path: gain.yaml\n  inputs:\n"
        "    source: dev.temp\n    target: dev.out\n"
    )
    checked = check(
        {"blueprints/gain.yaml": BLUEPRINT, "flows/one.yaml": instance}, BASE, fake_registry(), new_points()
    )
    assert checked.issues == ()
    spec = checked.runnable["one"]
    assert (spec.blueprint, spec.inputs) == (
        "blueprints/gain.yaml",
        {"source": "dev.temp", "target": "dev.out", "factor": 2},
    )
    assert spec.canonical()["nodes"]["scale"] == {"type": "gain", "factor": 2}
    assert str(spec.nodes[0].mark) == "/site/blueprints/gain.yaml:8"  # errors point into the blueprint


def test_an_instance_with_its_own_nodes_and_an_undeclared_input__invalid():
    blueprint = BLUEPRINT.replace("factor: !input factor", "factor: !input gain")
    instance = (
        "use_blueprint:\n  path: gain.yaml\n  inputs: {source: dev.temp, target: dev.out}\n"
        "nodes:\n  - {id: a, type: gain}\n"
    )
    assert issues({"blueprints/gain.yaml": blueprint, "flows/one.yaml": instance}) == [
        (
            "/site/blueprints/gain.yaml:9",
            "one",
            None,
            "!input gain: the blueprint declares no such input",
            "error",
        ),
        (
            "/site/flows/one.yaml:4",
            "one",
            None,
            "an instance takes its nodes and edges from its blueprint: remove them here",
            "error",
        ),
    ]
