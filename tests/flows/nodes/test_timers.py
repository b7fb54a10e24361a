"""Timer nodes on a manual clock: delay, on-delay, off-delay, debounce, rate limit."""

import pytest
import voluptuous as vol

from hub.flows.nodes.timers import Debounce, Delay, OffDelay, OnDelay, RateLimit
from tests.flows.runtime import ManualClock, run


@pytest.fixture
def clock():
    return ManualClock()


def test_delay_sends_each_value_later_in_order(clock):
    node, runtime = run(Delay, {"delay": "30s"}, clock)
    node.on_input("value", 1)
    clock.advance(10)
    node.on_input("value", 2)
    clock.advance(29)
    assert runtime.timeline == [(30, "value", 1)]
    clock.advance(100)
    assert runtime.timeline == [(30, "value", 1), (40, "value", 2)]


def test_on_delay_needs_an_uninterrupted_true(clock):
    node, runtime = run(OnDelay, {"delay": "1m"}, clock)
    node.on_input("in", True)
    clock.advance(50)
    node.on_input("in", False)  # interrupted: the wait starts again
    node.on_input("in", True)
    clock.advance(50)
    node.on_input("in", True)  # still true: does not restart the wait
    clock.advance(10)
    node.on_input("in", False)
    assert runtime.timeline == [(50, "out", False), (110, "out", True), (110, "out", False)]


def test_off_delay_holds_true_after_the_input_drops(clock):
    node, runtime = run(OffDelay, {"delay": "5m"}, clock)
    node.on_input("in", True)
    clock.advance(60)
    node.on_input("in", False)
    clock.advance(120)
    node.on_input("in", True)  # back before the delay ran out: stays true
    node.on_input("in", False)
    clock.advance(300)
    assert runtime.timeline == [(0, "out", True), (480, "out", False)]


def test_debounce_sends_the_last_value_after_quiet(clock):
    node, runtime = run(Debounce, {"wait": "2s"}, clock)
    for value in (1, 2, 3):
        node.on_input("value", value)
        clock.advance(1)
    clock.advance(5)
    node.on_input("value", 4)
    clock.advance(2)
    assert runtime.timeline == [(4, "value", 3), (10, "value", 4)]


def test_rate_limit_passes_the_first_and_the_last(clock):
    node, runtime = run(RateLimit, {"interval": "10s"}, clock)
    node.on_input("value", 1)
    clock.advance(2)
    node.on_input("value", 2)
    node.on_input("value", 3)
    clock.advance(20)
    node.on_input("value", 4)
    clock.advance(30)
    assert runtime.timeline == [(0, "value", 1), (10, "value", 3), (22, "value", 4)]


def test_timers_leave_nothing_pending_once_done(clock):
    node, _ = run(OnDelay, {"delay": 5}, clock)
    node.on_input("in", True)
    node.on_input("in", False)
    assert clock.pending == 0  # the cancelled wait does not fire later


@pytest.mark.parametrize(
    ("node_type", "params", "message"),
    [
        (Delay, {}, "required key not provided"),
        (Delay, {"delay": "0"}, "greater than zero"),
        (OnDelay, {"delay": "1 fortnight"}, "expected a duration"),
        (OffDelay, {"delay": True}, "expected a duration"),
        (Debounce, {"delay": "1s"}, "extra keys not allowed"),
        (RateLimit, {"interval": "-1s"}, "expected a duration"),
    ],
)
def test_timers__invalid(node_type, params, message):
    with pytest.raises(vol.Invalid, match=message):
        node_type.SCHEMA(params)
