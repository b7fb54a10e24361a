"""PID (against a first-order zone model, anti-windup, limits, bumpless transfer) and ramp."""

import itertools

import pytest
import voluptuous as vol

from hub.flows.nodes.control import Pid, Ramp
from tests.flows.runtime import ManualClock, run

INTERVAL = 10.0


class Zone:
    """A first-order thermal zone: loss to outdoors (time constant tau), heating worth up to `reach` K."""

    def __init__(self, clock: ManualClock, temp: float, outdoor: float = 10.0, reach: float = 20.0) -> None:
        self.clock, self.temp, self.outdoor, self.reach = clock, temp, outdoor, reach
        self.tau = 1800.0
        self.heat = 0.0  # % from the controller
        self.listeners = []
        clock.call_at(clock.now() + INTERVAL / 2, self._step)  # between controller ticks

    def _step(self) -> None:
        gain = (self.outdoor - self.temp + self.reach * self.heat / 100.0) / self.tau
        self.temp += gain * INTERVAL
        for listener in self.listeners:
            listener(self.temp)
        self.clock.call_at(self.clock.now() + INTERVAL, self._step)


def closed_loop(clock, temp, **params):
    pid, runtime = run(Pid, {"interval": INTERVAL, "setpoint": 21.0, **params}, clock)
    zone = Zone(clock, temp)
    zone.listeners.append(lambda value: pid.on_input("process", value))
    runtime.wire("output", lambda value: setattr(zone, "heat", value))
    return pid, runtime, zone


def test_pid_holds_the_zone_at_setpoint():
    clock = ManualClock()
    _, runtime, zone = closed_loop(clock, temp=16.0, kp=20.0, ti=600.0)
    clock.advance(4 * 3600)
    assert zone.temp == pytest.approx(21.0, abs=0.1)
    # steady state: the output settled where heat balances the loss, (21 - 10) / 20 = 55 %
    assert runtime.values("output")[-1] == pytest.approx(55.0, abs=1.0)
    temps = []
    zone.listeners.append(temps.append)
    clock.advance(3600)
    assert max(temps) - min(temps) < 0.05


def test_pid_rejects_a_disturbance():
    clock = ManualClock()
    _, _, zone = closed_loop(clock, temp=21.0, kp=20.0, ti=600.0)
    clock.advance(2 * 3600)
    zone.outdoor = 5.0  # a cold front: the output must find 80 %
    clock.advance(4 * 3600)
    assert zone.temp == pytest.approx(21.0, abs=0.1)


def test_pid_output_stays_within_limits():
    pid, runtime = run(Pid, {"kp": 50.0, "ti": 60.0, "interval": 1, "output_min": 10, "output_max": 80})
    pid.on_input("setpoint", 21.0)
    for process in (0.0, 50.0, 21.0, -40.0, 100.0):
        pid.on_input("process", process)
        runtime.clock.advance(30)
    outputs = runtime.values("output")
    assert (min(outputs), max(outputs)) == (10, 80)
    assert all(10 <= value <= 80 for value in outputs)


def test_pid_anti_windup_leaves_the_limit_as_soon_as_the_error_reverses():
    pid, runtime = run(Pid, {"kp": 2.0, "ti": 60.0, "interval": INTERVAL, "setpoint": 21.0})
    pid.on_input("process", 15.0)  # the heating is broken: the zone cannot reach setpoint
    runtime.clock.advance(3600)
    assert set(runtime.values("output")[-300:]) == {100.0}  # pinned at the limit for the last 50 minutes
    pid.on_input("process", 22.0)  # repaired and overshooting: heating must back off at once
    runtime.clock.advance(INTERVAL)
    assert runtime.values("output")[-1] < 90.0  # a wound-up integral would hold 100 % for hours


def test_pid_direct_action_opens_when_above_setpoint():
    pid, runtime = run(Pid, {"kp": 10.0, "action": "direct", "setpoint": 24.0, "interval": INTERVAL})
    pid.on_input("process", 26.0)
    runtime.clock.advance(INTERVAL)
    pid.on_input("process", 23.0)
    runtime.clock.advance(INTERVAL)
    assert runtime.values("output") == [20.0, 0.0]


def test_pid_derivative_acts_on_the_process_not_the_setpoint():
    pid, runtime = run(
        Pid, {"kp": 1.0, "td": 10.0, "interval": INTERVAL, "setpoint": 20.0, "output_min": -100}
    )
    pid.on_input("process", 20.0)
    runtime.clock.advance(INTERVAL)
    pid.on_input("setpoint", 25.0)  # a setpoint step: proportional jump only, no derivative kick
    runtime.clock.advance(INTERVAL)
    pid.on_input("process", 21.0)  # rising 1 K per tick: derivative brakes by kp * td * 0.1 K/s = 1
    runtime.clock.advance(INTERVAL)
    assert runtime.values("output") == pytest.approx([0.0, 5.0, 3.0])


def test_pid_manual_and_bumpless_return_to_auto():
    clock = ManualClock()
    pid, runtime, zone = closed_loop(clock, temp=16.0, kp=20.0, ti=600.0)
    clock.advance(3600)
    pid.on_input("manual", 40.0)
    assert runtime.values("output")[-1] != 40.0  # manual value ignored while in auto
    pid.on_input("auto", False)
    assert runtime.values("output")[-1] == 40.0  # at once, not at the next tick
    clock.advance(600)
    assert set(runtime.values("output")[-60:]) == {40.0}
    pid.on_input("auto", True)
    clock.advance(INTERVAL)
    error = 21.0 - zone.temp
    integral_step = 20.0 * error * INTERVAL / 600.0
    assert runtime.values("output")[-1] == pytest.approx(40.0 + integral_step, abs=0.5)
    clock.advance(4 * 3600)
    assert zone.temp == pytest.approx(21.0, abs=0.1)


def test_ramp_moves_at_rate_and_holds_at_target():
    ramp, runtime = run(Ramp, {"rate": 6.0, "step": "1s"})  # 0.1 per second
    ramp.on_input("target", 10.0)
    ramp.on_input("target", 11.0)
    runtime.clock.advance(30)
    values = runtime.values("value")
    assert (values[0], values[-1]) == (10.0, 11.0)
    assert [round(b - a, 6) for a, b in itertools.pairwise(values)] == [0.1] * 10
    ramp.on_input("target", 10.95)  # closer than one step: reached in one step
    runtime.clock.advance(5)
    assert runtime.values("value")[-1] == 10.95
    assert runtime.clock.pending == 0


@pytest.mark.parametrize(
    ("node_type", "params", "message"),
    [
        (Pid, {"kp": "1"}, "expected a number"),
        (Pid, {"ti": -1}, "ti cannot be negative"),
        (Pid, {"td": -1}, "td cannot be negative"),
        (Pid, {"interval": 0}, "greater than zero"),
        (Pid, {"output_min": 100, "output_max": 0}, "output_min must be below output_max"),
        (Pid, {"action": "heating"}, "expected reverse or direct"),
        (Pid, {"gain": 1}, "extra keys not allowed"),
        (Ramp, {}, "required key not provided"),
        (Ramp, {"rate": 0}, "rate must be greater than 0"),
        (Ramp, {"rate": 1, "step": "never"}, "expected a duration"),
    ],
)
def test_control__invalid(node_type, params, message):
    with pytest.raises(vol.Invalid, match=message):
        node_type.SCHEMA(params)
