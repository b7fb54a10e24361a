"""Input nodes: point read, parameter, constant."""

import pytest
import voluptuous as vol

from hub.flows.nodes.inputs import Constant, Parameter, PointRead
from hub.points import Quality, Sample
from tests.flows.runtime import START, run


def test_point_read_sends_the_latest_good_value_on_trigger():
    node, runtime = run(PointRead, {"point": "ahu-1.supply_air_temp"})
    node.on_input("trigger", True)
    assert runtime.emitted == []  # no sample yet: nothing to say
    runtime.points["ahu-1.supply_air_temp"] = Sample(16.5, START)
    node.on_input("trigger", START)
    runtime.points["ahu-1.supply_air_temp"] = Sample(None, START, Quality.BAD, "timeout")
    node.on_input("trigger", START)
    assert runtime.values("value") == [16.5]
    assert runtime.values("good") == [True, False]


def test_parameter_uses_the_flow_value_then_the_default():
    _, runtime = run(
        Parameter, {"name": "occupied_setpoint", "default": 21.0}, parameters={"occupied_setpoint": 22.5}
    )
    runtime.clock.advance(0)
    _, fallback = run(Parameter, {"name": "occupied_setpoint", "default": 21.0})
    fallback.clock.advance(0)
    _, nothing = run(Parameter, {"name": "occupied_setpoint"})
    nothing.clock.advance(0)
    assert (runtime.values("value"), fallback.values("value"), nothing.emitted) == ([22.5], [21.0], [])


def test_parameter_reads_again_on_trigger():
    node, runtime = run(Parameter, {"name": "mode"}, parameters={"mode": "eco"})
    runtime.parameters["mode"] = "comfort"
    node.on_input("trigger", True)
    runtime.clock.advance(0)
    assert runtime.values("value") == ["comfort", "comfort"]


def test_constant_at_start_and_on_trigger():
    node, runtime = run(Constant, {"value": 18})
    runtime.clock.advance(0)
    node.on_input("trigger", True)
    assert runtime.values("value") == [18, 18]


@pytest.mark.parametrize(
    ("node_type", "params", "message"),
    [
        (PointRead, {}, "required key not provided"),
        (PointRead, {"point": 5}, "expected a point id"),
        (Parameter, {"name": "9lives"}, "expected a name such as occupied_setpoint"),
        (Parameter, {"name": "sp", "default": [1]}, "expected a number, a boolean or a string"),
        (Constant, {}, "required key not provided"),
        (Constant, {"value": {"a": 1}}, "expected a number, a boolean or a string"),
    ],
)
def test_inputs__invalid(node_type, params, message):
    with pytest.raises(vol.Invalid, match=message):
        node_type.SCHEMA(params)
