"""Each alarm source raises and clears with the right delays, on a controlled clock."""

from hub.alarms.model import FlowErrored, FlowRecovered, Severity
from hub.alarms.settings import LimitRule, SourceRule, StaleRule
from hub.alarms.sources import render
from hub.commands import AuditEvent, WriteOutcome, WriteSource
from hub.points import DeviceState, DeviceStatus
from tests.alarms.conftest import QUIET, StartSite

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
