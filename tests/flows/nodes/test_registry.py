"""The built-in library as a whole: coverage of the issue's list, contract checks, the reference doc."""

import re
from pathlib import Path

import pytest
import voluptuous as vol

from hub.flows.node import Category, PortType
from hub.flows.nodes import BUILTIN_NODE_TYPES, builtin_registry
from hub.flows.nodes.reference import parameters, render
from tests.flows.runtime import ManualClock, ManualRuntime, make

DOC = Path(__file__).resolve().parents[3] / "docs" / "flows-nodes.md"

# The smallest valid parameters of each type, to build and run every one.
EXAMPLES = {
    "point_change": {"point": "p"},
    "interval": {"every": "1m"},
    "cron": {"expression": "@hourly"},
    "startup": {},
    "point_read": {"point": "p"},
    "parameter": {"name": "sp"},
    "constant": {"value": 1},
    "compare": {"operator": ">", "b": 0},
    "and": {},
    "or": {},
    "not": {},
    "hysteresis": {"on_at": 1, "off_at": 0},
    "deadband": {"band": 0.5},
    "changed": {},
    "select": {},
    "switch": {},
    "latch": {},
    "expression": {"expression": "a + 1"},
    "min": {},
    "max": {},
    "avg": {},
    "scale": {"in_min": 0, "in_max": 1, "out_min": 0, "out_max": 10},
    "delay": {"delay": "1s"},
    "on_delay": {"delay": "1s"},
    "off_delay": {"delay": "1s"},
    "debounce": {"wait": "1s"},
    "rate_limit": {"interval": "1s"},
    "pid": {"setpoint": 1, "interval": "1s"},
    "ramp": {"rate": 1},
    "schedule": {"schedule": {"week": {"mon-fri": ["07:00-18:00"]}}},
    "point_write": {"point": "p"},
    "mqtt_publish": {"topic": "t"},
    "alarm": {"alarm": "a", "message": "m"},
    "log": {},
}
SAMPLE = {PortType.NUMBER: 1.0, PortType.BOOLEAN: True, PortType.ANY: 1.0, PortType.STRING: "x"}


def test_the_library_covers_the_issue_list():
    registry = builtin_registry()
    assert len(registry) >= 25
    assert {t.TYPE for t in registry} == set(EXAMPLES)
    by_category = {category: {t.TYPE for t in registry if t.CATEGORY is category} for category in Category}
    assert by_category[Category.TRIGGER] == {"point_change", "interval", "cron", "startup"}
    assert by_category[Category.INPUT] == {"point_read", "parameter", "constant"}
    assert by_category[Category.TIMER] == {"delay", "on_delay", "off_delay", "debounce", "rate_limit"}
    assert {"pid", "ramp", "schedule"} == by_category[Category.CONTROL]
    assert {"point_write", "mqtt_publish", "alarm", "log"} == by_category[Category.OUTPUT]


@pytest.mark.parametrize("node_type", BUILTIN_NODE_TYPES, ids=lambda t: t.TYPE)
def test_node_type_contract(node_type):
    assert re.fullmatch(r"[a-z][a-z0-9_]*", node_type.TYPE)
    assert len(node_type.DESCRIPTION) > 60
    assert "\n" not in node_type.DESCRIPTION  # one paragraph
    assert isinstance(node_type.SCHEMA, vol.Schema)
    for ports in (node_type.INPUTS, node_type.OUTPUTS):
        assert len({port.name for port in ports}) == len(ports)
        assert all(isinstance(port.type, PortType) for port in ports)
    params = list(parameters(node_type))
    assert all(param.description for param in params), "every parameter is described for the palette"
    assert set(node_type.POINT_PARAMS) <= {param.name for param in params}
    assert set(node_type.WRITE_PARAMS) <= set(node_type.POINT_PARAMS)
    assert node_type.INPUTS or node_type.CATEGORY is Category.TRIGGER
    assert node_type.OUTPUTS or node_type.CATEGORY is Category.OUTPUT


@pytest.mark.parametrize("node_type", BUILTIN_NODE_TYPES, ids=lambda t: t.TYPE)
def test_every_type_runs_on_every_input(node_type):
    clock = ManualClock()
    runtime = ManualRuntime(clock, parameters={"sp": 2})
    node = make(node_type, EXAMPLES[node_type.TYPE], runtime)
    runtime.set_point("p", 2.0)
    for _ in range(3):
        for port in node_type.INPUTS:
            node.on_input(port.name, SAMPLE[port.type])
        clock.advance(3600)
    node.stop()
    outputs = {port.name for port in node_type.OUTPUTS}
    assert {port for port, _ in runtime.emitted} <= outputs
    if node_type.CATEGORY is not Category.OUTPUT:
        assert runtime.emitted, f"{node_type.TYPE} sent nothing"


def test_extra_keys_are_refused_everywhere():
    for node_type in BUILTIN_NODE_TYPES:
        with pytest.raises(vol.Invalid, match="extra keys not allowed"):
            node_type.SCHEMA({**EXAMPLES[node_type.TYPE], "colour": "red"})


def test_reference_doc_is_current():
    assert DOC.read_text() == render(builtin_registry()), (
        "docs/flows-nodes.md is stale: run python -m hub.flows.nodes.reference > docs/flows-nodes.md"
    )


def test_reference_lists_every_type_and_port():
    text = DOC.read_text()
    for node_type in BUILTIN_NODE_TYPES:
        section = text.split(f"### `{node_type.TYPE}`\n", 1)[1].split("\n### ", 1)[0]
        for port in (*node_type.INPUTS, *node_type.OUTPUTS):
            assert f"| `{port.name}` | {port.type} |" in section
