"""Trigger nodes on a manual clock: point change, interval, cron (DST), startup."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import voluptuous as vol

from hub.flows.nodes.triggers import Cron, Interval, PointChange, Startup
from hub.points import Quality, Sample
from tests.flows.runtime import START, ManualClock, run

PARIS = ZoneInfo("Europe/Paris")


def test_point_change_sends_current_value_then_each_good_sample():
    _, runtime = run(
        PointChange, {"point": "vav-1.zone_temp"}, points={"vav-1.zone_temp": Sample(21.5, START)}
    )
    runtime.clock.advance(0)
    runtime.set_point("vav-1.zone_temp", 22.0)
    runtime.set_point("vav-1.zone_temp", 99.0, Quality.BAD)
    assert runtime.values("value") == [21.5, 22.0]
    assert runtime.values("good") == [True, True, False]


def test_point_change_without_initial_waits_for_a_change():
    _, runtime = run(PointChange, {"point": "p", "initial": False}, points={"p": Sample(1.0, START)})
    runtime.clock.advance(60)
    assert runtime.emitted == []
    runtime.set_point("p", 2.0)
    assert runtime.values("value") == [2.0]


def test_interval_fires_on_a_fixed_grid():
    clock = ManualClock()
    _, runtime = run(Interval, {"every": "30s", "initial": True}, clock)
    clock.advance(95)
    assert runtime.values("tick") == [START, START + 30, START + 60, START + 90]


def test_startup_fires_once_after_start():
    _, runtime = run(Startup)
    assert runtime.emitted == []  # not during start: other nodes may not have started yet
    runtime.clock.advance(3600)
    assert runtime.values("started") == [True]


def test_cron_fires_at_local_times_on_weekdays():
    clock = ManualClock()
    _, runtime = run(Cron, {"expression": "0 7 * * mon-fri", "timezone": "Europe/Paris"}, clock)
    clock.advance(7 * 86400 + 6 * 3600)  # Friday 1 January 2027 01:00 to Friday 8 January 07:00 in Paris
    fired = [datetime.fromtimestamp(tick, PARIS) for tick in runtime.values("tick")]
    assert [(when.strftime("%a"), when.hour, when.minute) for when in fired] == [
        ("Fri", 7, 0),
        ("Mon", 7, 0),
        ("Tue", 7, 0),
        ("Wed", 7, 0),
        ("Thu", 7, 0),
        ("Fri", 7, 0),
    ]


def test_cron_stays_on_local_time_across_spring_dst():
    # Europe/Paris goes from UTC+1 to UTC+2 on Sunday 28 March 2027 at 02:00.
    clock = ManualClock(datetime(2027, 3, 27, 0, 0, tzinfo=PARIS).timestamp())
    _, runtime = run(Cron, {"expression": "30 6 * * *", "timezone": "Europe/Paris"}, clock)
    clock.advance(3 * 86400)
    ticks = runtime.values("tick")
    assert [datetime.fromtimestamp(t, PARIS).strftime("%d %H:%M") for t in ticks] == [
        "27 06:30",
        "28 06:30",
        "29 06:30",
    ]
    assert [datetime.fromtimestamp(t, UTC).hour for t in ticks] == [5, 4, 4]
    assert ticks[1] - ticks[0] == 23 * 3600  # the change day is 23 hours long


def test_cron_skips_the_missing_hour_and_runs_the_repeated_one_once():
    spring = ManualClock(datetime(2027, 3, 28, 0, 0, tzinfo=PARIS).timestamp())
    _, runtime = run(Cron, {"expression": "30 2 * * *", "timezone": "Europe/Paris"}, spring)
    spring.advance(2 * 86400)
    assert [datetime.fromtimestamp(t, PARIS).strftime("%d %H:%M") for t in runtime.values("tick")] == [
        "29 02:30"
    ]

    # Clocks go back on Sunday 31 October 2027 at 03:00 CEST: 02:00-03:00 happens twice.
    autumn = ManualClock(datetime(2027, 10, 31, 0, 0, tzinfo=PARIS).timestamp())
    _, runtime = run(Cron, {"expression": "*/30 2 * * *", "timezone": "Europe/Paris"}, autumn)
    autumn.advance(6 * 3600)
    assert [datetime.fromtimestamp(t, PARIS).strftime("%H:%M") for t in runtime.values("tick")] == [
        "02:00",
        "02:30",
    ]


def test_cron_in_utc_by_default():
    clock = ManualClock()
    _, runtime = run(Cron, {"expression": "@hourly"}, clock)
    clock.advance(3 * 3600)
    assert runtime.values("tick") == [START + 3600, START + 7200, START + 10800]


@pytest.mark.parametrize(
    ("node_type", "params", "message"),
    [
        (PointChange, {}, "required key not provided"),
        (PointChange, {"point": ""}, "expected a point id"),
        (PointChange, {"point": "p", "initial": "yes"}, "expected bool"),
        (Interval, {"every": "0s"}, "greater than zero"),
        (Interval, {"every": "soon"}, "expected a duration"),
        (Interval, {"every": -5}, "cannot be negative"),
        (Cron, {"expression": "0 7 * *"}, "expected 5 fields"),
        (Cron, {"expression": "61 * * * *"}, "minute field: 61 is out of range 0-59"),
        (Cron, {"expression": "0 7 * * mon-xyz"}, "day of week field: 'xyz' is not a number"),
        (Cron, {"expression": "*/0 * * * *"}, "step '0' must be a positive number"),
        (Cron, {"expression": "0 0 31 2 *"}, "never meet"),
        (Cron, {"expression": "0 7 * * *", "timezone": "Mars/Olympus"}, "unknown time zone"),
        (Startup, {"extra": 1}, "extra keys not allowed"),
    ],
)
def test_triggers__invalid(node_type, params, message):
    with pytest.raises(vol.Invalid, match=message):
        node_type.SCHEMA(params)
