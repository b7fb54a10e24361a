"""Weekly occupancy schedule on a manual clock: local time, DST, holidays, optimal start."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import voluptuous as vol

from hub.flows.nodes.schedule import Schedule
from tests.flows.runtime import START, ManualClock, run

PARIS = ZoneInfo("Europe/Paris")
OFFICE = {"week": {"mon-fri": ["07:00-18:00"], "sat": ["08:00-12:00"]}}


def at(year: int, month: int, day: int, hour: int = 0) -> ManualClock:
    return ManualClock(datetime(year, month, day, hour, tzinfo=PARIS).timestamp())


def changes(runtime, port="occupied"):
    """What `port` sent, as (local day and time in Paris, value)."""
    return [
        (datetime.fromtimestamp(START + when, PARIS).strftime("%a %d %H:%M"), value)
        for when, sent, value in runtime.timeline
        if sent == port
    ]


def test_week_with_holiday_in_local_time():
    clock = at(2027, 1, 1)  # Friday 1 January: a public holiday
    _, runtime = run(
        Schedule, {"schedule": {**OFFICE, "holidays": ["2027-01-01"]}, "timezone": "Europe/Paris"}, clock
    )
    clock.advance(4 * 86400)
    assert changes(runtime) == [
        ("Fri 01 00:00", False),
        ("Sat 02 08:00", True),
        ("Sat 02 12:00", False),
        ("Mon 04 07:00", True),
        ("Mon 04 18:00", False),
    ]
    assert changes(runtime, "run") == [(when, value) for when, value in changes(runtime)]


def test_holiday_range_and_holiday_hours():
    clock = at(2027, 12, 23)
    params = {
        "schedule": {**OFFICE, "holidays": ["2027-12-24..2027-12-27"], "holiday_hours": ["10:00-11:00"]},
        "timezone": "Europe/Paris",
    }
    _, runtime = run(Schedule, params, clock)
    clock.advance(5 * 86400 + 8 * 3600)
    assert changes(runtime) == [
        ("Thu 23 00:00", False),
        ("Thu 23 07:00", True),
        ("Thu 23 18:00", False),
        ("Fri 24 10:00", True),  # Friday and Saturday to Monday follow holiday_hours
        ("Fri 24 11:00", False),
        ("Sat 25 10:00", True),
        ("Sat 25 11:00", False),
        ("Sun 26 10:00", True),
        ("Sun 26 11:00", False),
        ("Mon 27 10:00", True),
        ("Mon 27 11:00", False),
        ("Tue 28 07:00", True),
    ]


@pytest.mark.parametrize(
    ("start", "expected_utc_hours"),
    [((2027, 3, 26), [6, 17, 5, 16]), ((2027, 10, 29), [5, 16, 6, 17])],  # spring forward, fall back
)
def test_schedule_follows_local_time_across_dst(start, expected_utc_hours):
    clock = at(*start)
    week = {"week": {"mon-sun": ["07:00-18:00"]}}
    _, runtime = run(Schedule, {"schedule": week, "timezone": "Europe/Paris"}, clock)
    clock.advance(4 * 86400)
    sent = [(START + when, value) for when, port, value in runtime.timeline if port == "occupied"][1:]
    local_times = {datetime.fromtimestamp(when, PARIS).strftime("%H:%M") for when, _ in sent}
    assert local_times == {"07:00", "18:00"}
    utc_hours = [datetime.fromtimestamp(when, ZoneInfo("UTC")).hour for when, _ in sent]
    assert utc_hours[:2] + utc_hours[-2:] == expected_utc_hours


def test_utc_by_default_and_overnight_periods_join():
    clock = ManualClock()  # Friday 1 January 2027, 00:00 UTC
    week = {"week": {"fri": ["20:00-24:00"], "sat": ["00:00-06:00"]}}
    _, runtime = run(Schedule, {"schedule": week}, clock)
    clock.advance(2 * 86400)
    assert [(round(when / 3600), value) for when, _, value in runtime.timeline if _ == "occupied"] == [
        (0, False),
        (20, True),
        (30, False),  # no flicker at midnight
    ]


def test_the_schedule_may_carry_its_time_zone():
    clock = at(2027, 1, 4)
    week = {"week": {"mon": ["07:00-18:00"]}, "timezone": "Europe/Paris"}
    _, runtime = run(Schedule, {"schedule": week, "timezone": "America/New_York"}, clock)
    clock.advance(86400)
    assert changes(runtime) == [("Mon 04 00:00", False), ("Mon 04 07:00", True), ("Mon 04 18:00", False)]


def test_empty_week_is_never_occupied_and_schedules_nothing():
    clock = ManualClock()
    _, runtime = run(Schedule, {"schedule": {"week": {}}}, clock)
    clock.advance(0)
    assert runtime.values("occupied") == [False]
    assert clock.pending == 0


def test_optimal_start_runs_early_by_the_recovery_time():
    clock = at(2027, 1, 4)  # Monday, occupied from 07:00
    params = {
        "schedule": OFFICE,
        "timezone": "Europe/Paris",
        "optimal_start": {"warmup_rate": 3.0, "max_lead": "3h"},
    }
    node, runtime = run(Schedule, params, clock)
    node.on_input("setpoint", 21.0)
    node.on_input("zone_temp", 15.0)  # 6 K to recover at 3 K/h: start 2 h early
    clock.advance(5.5 * 3600)
    node.on_input("zone_temp", 19.5)  # warming up: the early start holds
    clock.advance(13 * 3600)
    assert changes(runtime, "run") == [
        ("Mon 04 00:00", False),
        ("Mon 04 05:00", True),
        ("Mon 04 18:00", False),
    ]
    assert changes(runtime) == [("Mon 04 00:00", False), ("Mon 04 07:00", True), ("Mon 04 18:00", False)]


def test_optimal_start_is_capped_and_follows_a_warmer_zone():
    clock = at(2027, 1, 4)
    params = {
        "schedule": OFFICE,
        "timezone": "Europe/Paris",
        "optimal_start": {"warmup_rate": 2.0, "max_lead": "3h"},
    }
    node, runtime = run(Schedule, params, clock)
    node.on_input("setpoint", 21.0)
    node.on_input("zone_temp", 5.0)  # 8 h needed: capped at 3 h, i.e. 04:00
    clock.advance(3600)
    node.on_input("zone_temp", 20.0)  # the sun came out: 30 minutes are enough
    clock.advance(12 * 3600)
    assert changes(runtime, "run")[1] == ("Mon 04 06:30", True)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "required key not provided"),
        ({"schedule": {"mon": ["07:00-18:00"]}}, "expected a mapping with week"),
        ({"schedule": {"week": {"mon": ["7-18"]}}}, "expected a period such as '07:00-18:00'"),
        ({"schedule": {"week": {"mon": ["18:00-07:00"]}}}, "ends before it starts"),
        ({"schedule": {"week": {"mon": ["07:00-25:00"]}}}, "is not a time of day"),
        ({"schedule": {"week": {"mon": "07:00-18:00"}}}, "expected a list of periods"),
        ({"schedule": {"week": {"monday": []}}}, "expected a day or a range of days"),
        ({"schedule": {"week": {"fri-mon": []}}}, "runs backwards"),
        ({"schedule": {"week": {"mon-fri": [], "wed": []}}}, "wed is given twice"),
        ({"schedule": {"week": {}, "holidays": ["25/12/2027"]}}, "expected a date such as 2026-12-25"),
        ({"schedule": {"week": {}, "holidays": ["2027-12-26..2027-12-24"]}}, "must run forwards"),
        ({"schedule": {"week": {}, "vacations": []}}, "unknown key 'vacations'"),
        ({"schedule": {"week": {}}, "timezone": "Paris"}, "unknown time zone"),
        ({"schedule": {"week": {}, "timezone": "Mars/Olympus"}}, "unknown time zone"),
        (
            {"schedule": {"week": {}}, "optimal_start": {"warmup_rate": 0}},
            "warmup_rate must be greater than 0",
        ),
        ({"schedule": {"week": {}}, "optimal_start": {}}, "required key not provided"),
    ],
)
def test_schedule__invalid(params, message):
    with pytest.raises(vol.Invalid, match=message):
        Schedule.SCHEMA(params)
