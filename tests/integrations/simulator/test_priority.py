"""Priority arrays and write checks: BACnet semantics, refusals with a reason."""

import pytest

from hub.integration import WriteError
from hub.points import Limits, Point, PointKind
from integrations.simulator.priority import PriorityArray, checked_write
from tests.integrations.simulator.conftest import command, read

SETPOINT = Point("d.sp", "d", "sp", PointKind.ANALOG, writable=True, limits=Limits(10, 30))
FAN = Point("d.fan", "d", "fan", PointKind.BINARY, writable=True)
MODE = Point("d.mode", "d", "mode", PointKind.MULTISTATE, writable=True, limits=Limits(states=(1, 2, 3)))
SENSOR = Point("d.temp", "d", "temp", PointKind.ANALOG)


def test_priority_array__highest_priority_wins_and_relinquish_falls_back():
    array = PriorityArray(16.0)
    array.command(8, 18.0)
    array.command(5, 20.0)
    assert (array.effective, array.active_priority) == (20.0, 5)
    array.command(5, None)
    assert (array.effective, array.active_priority) == (18.0, 8)
    array.command(8, None)
    assert (array.effective, array.active_priority) == (16.0, None)
    assert array.slots() == (None,) * 16


def test_priority_array__a_lower_priority_write_does_not_override():
    array = PriorityArray(0.0)
    array.command(3, 50.0)
    array.command(16, 10.0)
    assert array.effective == 50.0


@pytest.mark.parametrize(
    ("point", "value", "priority", "reason"),
    [
        (SETPOINT, 45, 8, "d.sp: 45.0 is above the maximum 30"),
        (SETPOINT, 5.5, 8, "d.sp: 5.5 is below the minimum 10"),
        (SETPOINT, "warm", 8, "d.sp takes a number, not 'warm'"),
        (SETPOINT, True, 8, "d.sp takes a number, not True"),
        (SETPOINT, float("nan"), 8, "d.sp: nan is not a finite number"),
        (FAN, 2, 8, "d.fan takes true/false or 0/1, not 2"),
        (MODE, 4, 8, "d.mode: 4 is not one of the allowed states [1, 2, 3]"),
        (MODE, 1.0, 8, "d.mode takes an integer state, not 1.0"),
        (SENSOR, 20.0, 8, "d.temp is read-only"),
        (SETPOINT, 20.0, 0, "priority 0 is outside 1..16"),
        (SETPOINT, 20.0, 17, "priority 17 is outside 1..16"),
    ],
)
def test_checked_write__invalid(point, value, priority, reason):
    with pytest.raises(WriteError) as caught:
        checked_write(point, value, priority)
    assert str(caught.value) == reason


@pytest.mark.parametrize(
    ("point", "value", "stored"),
    [(SETPOINT, 20, 20.0), (FAN, 1, True), (FAN, False, False), (MODE, 3, 3), (SETPOINT, None, None)],
)
def test_checked_write__valid_values_take_the_points_type(point, value, stored):
    result = checked_write(point, value, 8)
    assert result == stored
    assert type(result) is type(stored)


def test_simulation__reads_of_a_writable_point_return_its_effective_value(demo):
    from integrations.simulator.simulation import Simulation

    simulation = Simulation(demo)
    point = "ahu-1.supply_air_setpoint"
    assert read(simulation, point).value == 16.0  # the scenario's relinquish default
    command(simulation, point, 18, priority=8)
    command(simulation, point, 20, priority=5)
    assert read(simulation, point).value == 20.0
    command(simulation, point, None, priority=5)
    assert read(simulation, point).value == 18.0
    command(simulation, point, None, priority=8)
    assert read(simulation, point).value == 16.0
