"""Each alarm source raises and clears with the right delays, on a controlled clock."""

import dataclasses

from hub.alarms.model import FlowErrored, FlowRecovered, Severity
from hub.alarms.settings import LimitRule, SourceRule, StaleRule
from hub.alarms.sources import Condition, StaleWatch, render
from hub.bus import Bus
from hub.commands import AuditEvent, WriteOutcome, WriteSource
from hub.points import (
    Device,
    DeviceAdded,
    DeviceState,
    DeviceStatus,
    Point,
    PointAdded,
    PointRegistry,
    Sample,
)
from tests.alarms.conftest import QUIET, T0, Site, StartSite

HIGH = "limit:ahu-1.temp:high"
LOW = "limit:ahu-1.temp:low"


def limits(**rule: object) -> dict[str, object]:
    return {"limits": (LimitRule("ahu-1.temp", **rule),)}  # type: ignore[arg-type]


async def test_limit__raised_after_delay_and_cleared_past_deadband(site: StartSite) -> None:
    s = await site(**limits(high=30.0, deadband=2.0, delay=60.0, severity=Severity.CRITICAL))
    s.sample("ahu-1.temp", 31.0)
    s.advance(59)
    assert s.states() == {}  # not yet: the condition has lasted 59 s of 60
    s.advance(1)
    assert s.states() == {HIGH: "active_unacked"}
    alarm = s.alarms.get(HIGH)
    assert alarm is not None
    assert alarm.severity is Severity.CRITICAL
    assert alarm.value == 31.0
    assert alarm.message == "ahu-1.temp is 31.0 °C, above high limit 30.0 °C"
    s.sample("ahu-1.temp", 29.0, after=5)  # inside the limit but within the deadband: no change coming
    s.advance(600)
    assert s.states() == {HIGH: "active_unacked"}
    s.sample("ahu-1.temp", 27.5, after=5)  # past the deadband: cleared once that lasted the delay
    s.advance(59)
    assert s.states() == {HIGH: "active_unacked"}
    s.advance(1)
    assert s.states() == {HIGH: "cleared_unacked"}


async def test_limit__a_spike_shorter_than_the_delay_raises_nothing(site: StartSite) -> None:
    s = await site(**limits(high=30.0, delay=10.0))
    s.sample("ahu-1.temp", 35.0)
    s.advance(9)
    s.sample("ahu-1.temp", 25.0)
    s.advance(3600)
    assert s.states() == {}
    assert s.published == []


async def test_limit__low_side_without_delay(site: StartSite) -> None:
    s = await site(**limits(low=10.0, high=30.0))
    s.sample("ahu-1.temp", 9.5)
    assert s.states() == {LOW: "active_unacked"}
    s.sample("ahu-1.temp", 10.5, after=1)
    assert s.states() == {LOW: "cleared_unacked"}


async def test_limit__non_numbers_are_no_evidence(site: StartSite) -> None:
    s = await site(**limits(high=30.0))
    s.sample("ahu-1.temp", "n/a")
    s.sample("ahu-1.temp", True, after=1)
    assert s.states() == {}


async def test_stale__raised_after_factor_intervals_and_cleared_by_a_sample(site: StartSite) -> None:
    s = await site(QUIET, stale=StaleRule(factor=3.0, points=("ahu-1.temp",)))
    s.sample("ahu-1.temp", 20.0)
    s.advance(15)  # exactly 3 x 5 s: not stale yet
    assert s.states() == {}
    s.advance(0.5)
    assert s.states() == {"stale:ahu-1.temp": "active_unacked"}
    assert s.alarms.get("stale:ahu-1.temp").message == "ahu-1.temp has not reported for 16 s"  # type: ignore[union-attr]
    s.sample("ahu-1.temp", 20.1)
    s.advance(0)
    assert s.states() == {"stale:ahu-1.temp": "cleared_unacked"}


async def test_stale__a_point_that_never_reported_counts_from_start(site: StartSite) -> None:
    s = await site(QUIET, stale=StaleRule(factor=2.0))
    s.advance(10)
    assert s.states() == {}
    s.advance(1)
    assert s.states() == {"stale:ahu-1.temp": "active_unacked", "stale:ahu-1.fan": "active_unacked"}


async def test_stale__raised_again_after_a_resolve_while_still_stale(site: StartSite) -> None:
    s = await site(QUIET, stale=StaleRule(factor=2.0, points=("ahu-1.temp",)))
    s.advance(11)
    s.alarms.resolve("stale:ahu-1.temp", "ops")
    assert s.states() == {"stale:ahu-1.temp": "normal"}
    s.advance(1)
    assert s.states() == {"stale:ahu-1.temp": "active_unacked"}


async def test_stale__an_alarm_restored_active_is_cleared_once_the_point_is_fresh(site: StartSite) -> None:
    s = await site(QUIET, stale=StaleRule(factor=2.0, points=("ahu-1.temp",)))
    s.advance(11)
    s.sample("ahu-1.temp", 20.0)
    await s.restart()  # restored as active before any tick
    assert s.states() == {"stale:ahu-1.temp": "active_unacked"}
    s.advance(1)
    assert s.states() == {"stale:ahu-1.temp": "cleared_unacked"}


async def test_stale__points_registered_later_and_interval_changes_are_followed(site: StartSite) -> None:
    s = await site(QUIET, stale=StaleRule(factor=2.0, points=("vav-1.flow", "ahu-1.temp")))
    s.sample("ahu-1.temp", 20.0)
    s.points.add_device(
        Device("vav-1", "VAV 1", "test", poll_interval=60.0), [Point("vav-1.flow", "vav-1", "flow")]
    )
    s.advance(11)
    assert s.states() == {"stale:ahu-1.temp": "active_unacked"}  # vav-1.flow: 11 s of 2 x 60 s
    s.advance(50)
    assert s.states() == {"stale:ahu-1.temp": "active_unacked"}
    s.points.add_device(dataclasses.replace(s.points.device("vav-1"), poll_interval=30.0))
    s.advance(0)  # now 61 s of 2 x 30 s
    assert s.states() == {"stale:ahu-1.temp": "active_unacked", "stale:vav-1.flow": "active_unacked"}


def suppressed(s: Site) -> object:
    return s.alarms.health().detail["stale_suppressed"]


async def test_stale__suppressed_while_the_device_is_offline(site: StartSite) -> None:
    """One fault, one alarm: the offline device's, not one more per point (ISA-18.2 designed suppression)."""
    s = await site(QUIET, stale=StaleRule(factor=2.0))
    s.sample("ahu-1.temp", 20.0)
    s.sample("ahu-1.fan", 1)
    s.points.set_device_state("ahu-1", DeviceState(DeviceStatus.OFFLINE, last_error="timeout"))
    s.advance(60)  # both points 6 intervals old
    assert s.states() == {"device_offline:ahu-1": "active_unacked"}
    assert suppressed(s) == 2
    s.points.set_device_state("ahu-1", DeviceState(DeviceStatus.ONLINE))
    s.sample("ahu-1.temp", 21.0)  # back, but the fan point still reports nothing
    s.advance(1)
    assert s.states() == {"device_offline:ahu-1": "cleared_unacked", "stale:ahu-1.fan": "active_unacked"}
    assert suppressed(s) == 0


async def test_stale__not_suppressed_when_device_alarms_are_disabled(site: StartSite) -> None:
    """Without the device's alarm the stale alarms are the only sign of the outage."""
    s = await site(QUIET, stale=StaleRule(factor=2.0), device_offline=SourceRule(enabled=False))
    s.points.set_device_state("ahu-1", DeviceState(DeviceStatus.ERROR, last_error="bad frame"))
    s.advance(11)
    assert s.states() == {"stale:ahu-1.temp": "active_unacked", "stale:ahu-1.fan": "active_unacked"}
    assert suppressed(s) == 0


async def test_stale__an_alarm_raised_before_the_device_went_offline_stays_until_a_sample(
    site: StartSite,
) -> None:
    s = await site(QUIET, stale=StaleRule(factor=2.0, points=("ahu-1.temp",)))
    s.advance(11)
    assert s.states() == {"stale:ahu-1.temp": "active_unacked"}
    s.points.set_device_state("ahu-1", DeviceState(DeviceStatus.OFFLINE))
    s.advance(1)
    assert s.states() == {"stale:ahu-1.temp": "active_unacked", "device_offline:ahu-1": "active_unacked"}
    s.points.set_device_state("ahu-1", DeviceState(DeviceStatus.ONLINE))
    s.sample("ahu-1.temp", 20.0)
    s.advance(1)
    assert s.states() == {"stale:ahu-1.temp": "cleared_unacked", "device_offline:ahu-1": "cleared_unacked"}


async def test_device_offline__raised_and_cleared(site: StartSite) -> None:
    s = await site(device_offline=SourceRule(severity=Severity.CRITICAL))
    s.points.set_device_state("ahu-1", DeviceState(DeviceStatus.OFFLINE, last_error="timeout"))
    alarm = s.alarms.get("device_offline:ahu-1")
    assert alarm is not None
    assert alarm.severity is Severity.CRITICAL
    assert alarm.message == "device AHU 1 (ahu-1) is offline: timeout"
    s.points.set_device_state("ahu-1", DeviceState(DeviceStatus.ONLINE))
    assert s.states() == {"device_offline:ahu-1": "cleared_unacked"}


async def test_device_offline__disabled(site: StartSite) -> None:
    s = await site(device_offline=SourceRule(enabled=False))
    s.points.set_device_state("ahu-1", DeviceState(DeviceStatus.OFFLINE))
    assert s.states() == {}


def audit(outcome: WriteOutcome, reason: str | None = None) -> AuditEvent:
    return AuditEvent(0.0, "alice", WriteSource.REST, "ahu-1.fan", 0, 1, 8, outcome, reason)


async def test_write_failed__raised_and_cleared_by_the_next_good_write(site: StartSite) -> None:
    s = await site()
    s.bus.publish(audit(WriteOutcome.REFUSED, "rate limited"))  # a refusal is an answer, not a fault
    assert s.states() == {}
    s.bus.publish(audit(WriteOutcome.FAILED, "device timeout"))
    alarm = s.alarms.get("write_failed:ahu-1.fan")
    assert alarm is not None
    assert alarm.message == "writing 1 to ahu-1.fan failed: device timeout"
    assert alarm.severity is Severity.MINOR
    s.bus.publish(audit(WriteOutcome.WRITTEN))
    assert s.states() == {"write_failed:ahu-1.fan": "cleared_unacked"}


async def test_flow_error__raised_and_cleared(site: StartSite) -> None:
    s = await site()
    s.bus.publish(FlowErrored("chiller-plant", "division by zero in node calc"))
    alarm = s.alarms.get("flow_error:chiller-plant")
    assert alarm is not None
    assert alarm.message == "flow chiller-plant failed: division by zero in node calc"
    s.bus.publish(FlowRecovered("chiller-plant"))
    assert s.states() == {"flow_error:chiller-plant": "cleared_unacked"}


async def test_flow_alarm_node__raise_is_idempotent_and_clear_clears(site: StartSite) -> None:
    s = await site()
    s.alarms.raise_flow_alarm("fan-proof", "no-proof", Severity.MAJOR, "fan did not prove")
    s.alarms.raise_flow_alarm("fan-proof", "no-proof", Severity.MAJOR, "fan did not prove")
    assert s.states() == {"flow:fan-proof:no-proof": "active_unacked"}
    assert [p["event"]["kind"] for p in s.published] == ["raised"]
    s.alarms.clear_flow_alarm("fan-proof", "no-proof")
    s.alarms.clear_flow_alarm("fan-proof", "no-proof")
    assert [p["event"]["kind"] for p in s.published] == ["raised", "cleared"]


def test_render__values_in_the_template_and_unknown_names_kept() -> None:
    assert (
        render("{point} at {value}{units} ({nope})", {"point": "p", "value": 3, "units": " °C"})
        == "p at 3 °C ({nope})"
    )
    assert render("broken {", {}) == "broken {"


def test_stale_watch__a_tick_looks_only_at_points_due_stale_or_new() -> None:
    """10,000 points, three of them quiet: after the first tick, only those (and a new one) are judged."""
    clock = [T0]
    bus = Bus()
    points = PointRegistry(bus, clock=lambda: clock[0])
    for d in range(100):
        device = Device(f"d{d}", f"D{d}", "test", poll_interval=5.0)
        points.add_device(device, [Point(f"d{d}.p{i}", f"d{d}", f"p{i}") for i in range(100)])
    quiet = ["d0.p1", "d0.p2", "d7.p3"]
    for point in points.points():
        points.update(point.id, Sample(1.0, T0 - 5 if point.id in quiet else T0))
    active: set[str] = set()
    asked: list[str] = []  # every alarm a tick consulted: one per point it looked at
    reports: list[Condition] = []

    def is_active(alarm_id: str) -> bool:
        asked.append(alarm_id)
        return alarm_id in active

    def report(condition: Condition) -> None:
        reports.append(condition)
        (active.add if condition.active else active.discard)(condition.alarm_id)

    watch = StaleWatch(StaleRule(), 3.0, points, report, is_active, since=T0 - 5)
    bus.subscribe(PointAdded, watch.point_added)
    bus.subscribe(DeviceAdded, watch.device_added)

    def tick(at: float) -> list[str]:
        asked.clear()
        reports.clear()
        watch.tick(at)
        return sorted(a.removeprefix("stale:") for a in asked)

    assert len(tick(T0)) == 10_000  # the first tick judges every point once
    assert tick(T0 + 9) == []
    assert tick(T0 + 10.5) == sorted(quiet)
    assert [(c.alarm_id, c.active, c.message, c.value, c.severity) for c in reports] == [
        (f"stale:{p}", True, f"{p} has not reported for 16 s", 1.0, Severity.MINOR) for p in quiet
    ]
    assert tick(T0 + 11.5) == sorted(quiet)  # stale points are looked at every tick
    assert reports == []
    points.update("d0.p2", Sample(2.0, T0 + 12))
    points.add_device(Device("new", "New", "test", poll_interval=1.0), [Point("new.p", "new", "p")])
    assert tick(T0 + 12.5) == sorted(["d0.p1", "d0.p2", "d7.p3", "new.p"])
    assert [(c.alarm_id, c.active) for c in reports] == [("stale:d0.p2", False), ("stale:new.p", True)]
    assert tick(T0 + 13.5) == ["d0.p1", "d7.p3", "new.p"]
    assert len(tick(T0 + 15.5)) == 10_000  # nothing sampled the others since T0: all due (and stale) now
    assert len(active) == 10_000  # all 10,001 points but d0.p2, sampled at T0 + 12
