"""Math nodes: min, max, avg and scale."""

import pytest
import voluptuous as vol

from hub.flows.nodes.math import Average, Maximum, Minimum, Scale
from tests.flows.runtime import run


@pytest.mark.parametrize(
    ("node_type", "expected"),
    [(Minimum, [19.5, 19.5, 19.0]), (Maximum, [22.0, 22.0, 22.0]), (Average, [21.0, 62 / 3, 20.5])],
)
def test_min_max_avg_of_three(node_type, expected):
    node, runtime = run(node_type, {"inputs": 3})
    node.on_input("in1", 21.5)
    node.on_input("in2", 22.0)
    assert runtime.emitted == []  # in3 has no value yet
    node.on_input("in3", 19.5)
    node.on_input("in1", 20.5)
    node.on_input("in3", 19.0)
    assert runtime.values("out") == pytest.approx(expected)


def test_scale_maps_and_clamps_a_reversed_range():
    node, runtime = run(Scale, {"in_min": 0, "in_max": 100, "out_min": 18, "out_max": 12})
    for value in (0, 50, 100, 150, -10):
        node.on_input("value", value)
    assert runtime.values("value") == [18, 15, 12, 12, 18]


def test_scale_without_clamp_extrapolates():
    node, runtime = run(Scale, {"in_min": 4, "in_max": 20, "out_min": 0, "out_max": 100, "clamp": False})
    node.on_input("value", 24)
    assert runtime.values("value") == [125]


@pytest.mark.parametrize(
    ("node_type", "params", "message"),
    [
        (Minimum, {"inputs": "3"}, "expected int"),
        (Average, {"inputs": 9}, "expected 2 to 4 inputs"),
        (Scale, {"in_min": 0, "in_max": 100, "out_min": 0}, "required key not provided"),
        (Scale, {"in_min": 5, "in_max": 5, "out_min": 0, "out_max": 1}, "in_min and in_max must differ"),
        (Scale, {"in_min": 0, "in_max": 1, "out_min": 0, "out_max": "x"}, "expected a number"),
    ],
)
def test_math__invalid(node_type, params, message):
    with pytest.raises(vol.Invalid, match=message):
        node_type.SCHEMA(params)
