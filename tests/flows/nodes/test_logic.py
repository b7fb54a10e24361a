"""Logic nodes: compare, gates, hysteresis, deadband, changed, select, switch, latch."""

import pytest
import voluptuous as vol

from hub.flows.nodes.logic import And, Changed, Compare, Deadband, Hysteresis, Latch, Not, Or, Select, Switch
from tests.flows.runtime import run


def feed(node, port, *values):
    for value in values:
        node.on_input(port, value)


@pytest.mark.parametrize(
    ("operator", "expected"),
    [(">", [False, False, True]), (">=", [False, True, True]), ("<", [True, False, False]),
     ("<=", [True, True, False]), ("==", [False, True, False]), ("!=", [True, False, True])],
)  # fmt: skip
def test_compare(operator, expected):
    node, runtime = run(Compare, {"operator": operator, "b": 20})
    feed(node, "a", 19, 20, 21)
    assert runtime.values("result") == expected


def test_compare_b_input_replaces_the_parameter():
    node, runtime = run(Compare, {"operator": ">"})
    node.on_input("a", 5)
    assert runtime.emitted == []  # nothing to compare with yet
    node.on_input("b", 4)
    node.on_input("b", 6)
    assert runtime.values("result") == [True, False]


def test_and_or_wait_for_every_used_input():
    both, anded = run(And, {"inputs": 3})
    either, ored = run(Or)
    feed(both, "in1", True)
    feed(both, "in2", True)
    feed(both, "in4", False)  # beyond `inputs`: ignored
    feed(either, "in1", False)
    assert anded.emitted == ored.emitted == []
    feed(both, "in3", True)
    feed(both, "in2", False)
    feed(either, "in2", True)
    feed(either, "in2", False)
    assert anded.values("out") == [True, False]
    assert ored.values("out") == [True, False]


def test_not():
    node, runtime = run(Not)
    feed(node, "in", True, False)
    assert runtime.values("out") == [False, True]


def test_hysteresis_cooling_turns_on_above_and_off_below():
    node, runtime = run(Hysteresis, {"on_at": 24, "off_at": 22})
    feed(node, "value", 23, 23.9, 24, 23, 22.1, 22, 23, 25)
    assert runtime.values("out") == [False, True, False, True]  # only changes are sent
    assert runtime.emitted == [("out", False), ("out", True), ("out", False), ("out", True)]


def test_hysteresis_heating_turns_on_below_and_off_above():
    node, runtime = run(Hysteresis, {"on_at": 18, "off_at": 20})
    values = [19, 18, 19.5, 20, 18.5, 17]
    outputs = []
    for value in values:
        node.on_input("value", value)
        outputs.append(runtime.values("out")[-1])
    assert outputs == [False, True, True, False, False, True]


def test_deadband_passes_only_changes_of_at_least_band():
    node, runtime = run(Deadband, {"band": 0.5})
    feed(node, "value", 20.0, 20.2, 20.4, 20.5, 20.1, 20.9, 21.0)
    assert runtime.values("value") == [20.0, 20.5, 21.0]


def test_changed_and_rising_edge():
    node, runtime = run(Changed)
    feed(node, "value", False, False, True, True, False, True)
    assert runtime.values("value") == [False, True, False, True]
    assert runtime.values("rising") == [True, True]


def test_select_chooses_by_condition():
    node, runtime = run(Select)
    node.on_input("when_true", 21.0)
    node.on_input("when_false", 16.0)
    assert runtime.emitted == []
    feed(node, "condition", True, False)
    node.on_input("when_false", 15.0)
    node.on_input("when_true", 22.0)  # not the chosen one, but sent again: any input change re-evaluates
    assert runtime.values("value") == [21.0, 16.0, 15.0, 15.0]


def test_switch_routes_and_reroutes_on_condition_change():
    node, runtime = run(Switch)
    node.on_input("value", "start")
    node.on_input("condition", True)
    node.on_input("condition", False)
    node.on_input("value", "stop")
    assert runtime.emitted == [("true", "start"), ("false", "start"), ("false", "stop")]


@pytest.mark.parametrize(("reset_wins", "both"), [(True, False), (False, True)])
def test_latch_holds_until_reset(reset_wins, both):
    node, runtime = run(Latch, {"reset_wins": reset_wins})
    node.on_input("set", True)
    node.on_input("set", False)
    assert runtime.values("out")[-1] is True  # held after set goes away
    node.on_input("set", True)
    node.on_input("reset", True)
    assert runtime.values("out")[-1] is both
    node.on_input("set", False)
    assert runtime.values("out")[-1] is False
    node.on_input("reset", False)
    assert runtime.values("out")[-1] is False


@pytest.mark.parametrize(
    ("node_type", "params", "message"),
    [
        (Compare, {}, "required key not provided"),
        (Compare, {"operator": "=>"}, "expected one of > >= < <= == !="),
        (Compare, {"operator": ">", "b": "20"}, "expected a number"),
        (And, {"inputs": 1}, "expected 2 to 4 inputs"),
        (Or, {"inputs": 5}, "expected 2 to 4 inputs"),
        (Hysteresis, {"on_at": 22}, "required key not provided"),
        (Hysteresis, {"on_at": 22, "off_at": 22}, "on_at and off_at must differ"),
        (Hysteresis, {"on_at": True, "off_at": 22}, "expected a number"),
        (Deadband, {"band": -1}, "value must be at least 0"),
        (Latch, {"reset_wins": "no"}, "expected bool"),
        (Not, {"invert": True}, "extra keys not allowed"),
    ],
)
def test_logic__invalid(node_type, params, message):
    with pytest.raises(vol.Invalid, match=message):
        node_type.SCHEMA(params)
