"""The one write path against the fake integration's priority arrays: checks, outcomes, audit."""

import asyncio
import math
from dataclasses import dataclass

import pytest

from hub.bus import Bus
from hub.commands import (
    AuditEvent,
    CommandService,
    Refusal,
    WriteOutcome,
    WriteRequest,
    WriteResult,
    WriteSource,
)
from hub.integration import DeviceError
from hub.points import Device, Limits, Point, PointKind, PointRegistry, Sample
from tests.fake_devices import FakeClock, FakeDevice, FakeIntegration

SETPOINT = Point("d1.setpoint", "d1", "setpoint", writable=True, limits=Limits(10, 30), units="°C")
LIMITED = Point("d1.damper", "d1", "damper", writable=True, limits=Limits(0, 100), min_write_interval=60)
FAN = Point("d1.fan", "d1", "fan", kind=PointKind.BINARY, writable=True)
MODE = Point(
    "d1.mode", "d1", "mode", kind=PointKind.MULTISTATE, writable=True, limits=Limits(states=(1, 2, 3))
)
LABEL = Point("d1.label", "d1", "label", kind=PointKind.STRING, writable=True)
TEMP = Point("d1.temp", "d1", "temp")  # read-only
POINTS = [SETPOINT, LIMITED, FAN, MODE, LABEL, TEMP]


@dataclass
class Env:
    registry: PointRegistry
    fake: FakeIntegration
    device: FakeDevice
    commands: CommandService
    clock: FakeClock
    audit: list[AuditEvent]


@pytest.fixture
def env() -> Env:
    bus = Bus()
    clock = FakeClock()
    registry = PointRegistry(bus, clock=clock)
    fake = FakeIntegration(registry, clock=clock)
    device = fake.add_device(Device("d1", "D1", "fake"), POINTS, value=20.0)
    commands = CommandService(registry, {"fake": fake}.get, bus, clock=clock, timeout=0.05)
    audit: list[AuditEvent] = []
    bus.subscribe(AuditEvent, audit.append)
    return Env(registry, fake, device, commands, clock, audit)


def assert_audited(env: Env, request: WriteRequest, result: WriteResult) -> None:
    """Exactly one audit event, saying the same as the result."""
    assert len(env.audit) == 1
    event = env.audit[0]
    assert (event.actor, event.source, event.point_id, event.priority) == (
        request.actor,
        request.source,
        request.point_id,
        request.priority,
    )
    assert (event.old, event.new, event.outcome, event.reason) == (
        result.old,
        result.new,
        result.outcome,
        result.reason,
    )
    assert event.timestamp == env.clock.now


@pytest.mark.parametrize(
    ("point_id", "value", "priority", "refusal", "reason"),
    [
        ("nope", 1.0, 8, Refusal.UNKNOWN_POINT, "unknown point 'nope'"),
        ("d1.temp", 21.0, 8, Refusal.NOT_WRITABLE, "point 'd1.temp' is not writable"),
        ("d1.setpoint", 21.0, 0, Refusal.BAD_PRIORITY, "priority 0 is outside 1..16"),
        ("d1.setpoint", 21.0, 17, Refusal.BAD_PRIORITY, "priority 17 is outside 1..16"),
        ("d1.setpoint", 21.0, True, Refusal.BAD_PRIORITY, "priority True is outside 1..16"),
        ("d1.setpoint", 35.0, 8, Refusal.BAD_VALUE, "35.0 is above the maximum 30"),
        ("d1.setpoint", 5, 8, Refusal.BAD_VALUE, "5 is below the minimum 10"),
        ("d1.setpoint", math.nan, 8, Refusal.BAD_VALUE, "nan is not a finite number"),
        ("d1.setpoint", "warm", 8, Refusal.BAD_VALUE, "an analog point takes a number, not 'warm'"),
        ("d1.fan", 2, 8, Refusal.BAD_VALUE, "a binary point takes true/false or 0/1, not 2"),
        ("d1.mode", 4, 8, Refusal.BAD_VALUE, "4 is not one of the allowed states [1, 2, 3]"),
        ("d1.mode", 1.5, 8, Refusal.BAD_VALUE, "a multistate point takes an integer state, not 1.5"),
        ("d1.label", 3, 8, Refusal.BAD_VALUE, "a string point takes text, not 3"),
    ],
)
async def test_write__invalid(env, point_id, value, priority, refusal, reason):
    request = WriteRequest(point_id, value, priority, actor="alice", source=WriteSource.REST)

    result = await env.commands.write(request)

    assert (result.outcome, result.reason, result.verified) == (WriteOutcome.REFUSED, reason, None)
    assert result.refusal == refusal
    assert env.fake.writes == []
    assert_audited(env, request, result)


@pytest.mark.parametrize(
    ("point_id", "value"),
    [
        ("d1.setpoint", 21.5),
        ("d1.setpoint", 30),
        ("d1.fan", True),
        ("d1.fan", 0),
        ("d1.mode", 2),
        ("d1.label", "on"),
    ],
)
async def test_write__valid(env, point_id, value):
    env.registry.update(point_id, Sample(20.0, env.clock.now))
    request = WriteRequest(point_id, value, actor="flow:ahu", source=WriteSource.FLOW)

    result = await env.commands.write(request)

    assert result == WriteResult(WriteOutcome.WRITTEN, point_id, 20.0, value, 8, None, verified=True)
    assert env.fake.writes == [(point_id, value, 8)]
    assert env.registry.latest(point_id).value == value  # the read-back sample is the latest
    assert_audited(env, request, result)


async def test_priority__highest_slot_wins_and_relinquish_releases_it(env):
    array = env.device.priority_array("d1.setpoint")

    at_8 = await env.commands.write(WriteRequest("d1.setpoint", 21.0, priority=8))
    at_5 = await env.commands.write(WriteRequest("d1.setpoint", 25.0, priority=5))
    held = await env.commands.write(WriteRequest("d1.setpoint", 22.0, priority=8))

    assert (at_8.verified, at_5.verified) == (True, True)
    assert (held.outcome, held.verified, held.reason) == (WriteOutcome.WRITTEN, False, "read back 25.0")
    assert (array[4], array[7]) == (25.0, 22.0)

    released = await env.commands.write(WriteRequest("d1.setpoint", None, priority=5))

    assert (released.outcome, released.new, released.verified, released.reason) == (
        WriteOutcome.WRITTEN,
        None,
        None,
        None,
    )
    assert array[4] is None
    assert env.device.value("d1.setpoint") == 22.0  # priority 8 is in control again

    await env.commands.write(WriteRequest("d1.setpoint", None, priority=8))

    assert env.device.value("d1.setpoint") == 20.0  # every slot empty: the relinquish default
    assert [(e.new, e.priority, e.outcome) for e in env.audit] == [
        (21.0, 8, WriteOutcome.WRITTEN),
        (25.0, 5, WriteOutcome.WRITTEN),
        (22.0, 8, WriteOutcome.WRITTEN),
        (None, 5, WriteOutcome.WRITTEN),
        (None, 8, WriteOutcome.WRITTEN),
    ]


async def test_verify__a_value_held_by_another_writer_is_not_verified(env):
    env.device.priority_array("d1.setpoint")[0] = 28.0  # a life-safety override at priority 1

    result = await env.commands.write(WriteRequest("d1.setpoint", 21.0))

    assert (result.outcome, result.verified, result.reason) == (WriteOutcome.WRITTEN, False, "read back 28.0")
    assert env.audit[0].reason == "read back 28.0"


async def test_verify__off_skips_the_read_back(env):
    reads = len(env.fake.history)

    result = await env.commands.write(WriteRequest("d1.setpoint", 21.0, verify=False))

    assert (result.outcome, result.verified) == (WriteOutcome.WRITTEN, None)
    assert len(env.fake.history) == reads


async def test_verify__a_read_back_that_fails_leaves_it_unverified(env):
    env.device.fail(1, DeviceError("busy"))

    result = await env.commands.write(WriteRequest("d1.setpoint", 21.0))

    assert (result.outcome, result.verified, result.reason) == (
        WriteOutcome.WRITTEN,
        None,
        "could not read back: busy",
    )


async def test_rate_limit__one_write_per_interval(env):
    first = await env.commands.write(WriteRequest("d1.damper", 40.0))
    env.clock.now += 10
    second = await env.commands.write(WriteRequest("d1.damper", 50.0, actor="bob"))
    env.clock.now += 50
    third = await env.commands.write(WriteRequest("d1.damper", 50.0))

    assert first.outcome == WriteOutcome.WRITTEN
    assert (second.outcome, second.refusal, second.reason) == (
        WriteOutcome.REFUSED,
        Refusal.RATE_LIMITED,
        "rate limit: the last write was 10.0 s ago, at most one write every 60 s",
    )
    assert third.outcome == WriteOutcome.WRITTEN
    assert [w[1] for w in env.fake.writes] == [40.0, 50.0]
    assert (env.audit[1].actor, env.audit[1].outcome, env.audit[1].reason) == (
        "bob",
        second.outcome,
        second.reason,
    )


async def test_rate_limit__dry_runs_and_failed_writes_do_not_count(env):
    dry = await env.commands.write(WriteRequest("d1.damper", 40.0, dry_run=True))
    env.device.write_error = "out of service"
    failed = await env.commands.write(WriteRequest("d1.damper", 40.0))
    env.device.write_error = None
    written = await env.commands.write(WriteRequest("d1.damper", 40.0))

    assert [dry.outcome, failed.outcome, written.outcome] == [
        WriteOutcome.DRY_RUN,
        WriteOutcome.FAILED,
        WriteOutcome.WRITTEN,
    ]


async def test_rate_limit__concurrent_writes_meet_it(env):
    results = await asyncio.gather(
        env.commands.write(WriteRequest("d1.damper", 40.0)),
        env.commands.write(WriteRequest("d1.damper", 41.0)),
    )

    assert sorted(r.outcome for r in results) == [WriteOutcome.REFUSED, WriteOutcome.WRITTEN]
    assert len(env.fake.writes) == 1


async def test_dry_run__validates_but_writes_nothing(env):
    request = WriteRequest("d1.setpoint", 21.0, dry_run=True, actor="alice", source=WriteSource.UI)

    result = await env.commands.write(request)
    refused = await env.commands.write(WriteRequest("d1.setpoint", 99.0, dry_run=True))

    assert (result.outcome, result.reason, result.verified) == (WriteOutcome.DRY_RUN, None, None)
    assert (refused.outcome, refused.reason) == (WriteOutcome.REFUSED, "99.0 is above the maximum 30")
    assert env.fake.writes == []
    assert env.fake.history == []  # not even a read back
    assert [e.outcome for e in env.audit] == [WriteOutcome.DRY_RUN, WriteOutcome.REFUSED]


@pytest.mark.parametrize(
    ("make_it_fail", "reason"),
    [
        (
            lambda device: setattr(device, "write_error", "out of service"),
            "refused by the device: out of service",
        ),
        (lambda device: device.hang(), "no answer within 0.05 s"),
    ],
)
async def test_write__failed(env, make_it_fail, reason):
    make_it_fail(env.device)
    request = WriteRequest("d1.setpoint", 21.0)

    result = await env.commands.write(request)

    assert (result.outcome, result.reason, result.verified) == (WriteOutcome.FAILED, reason, None)
    assert env.fake.writes == []
    assert_audited(env, request, result)


async def test_write__refused_when_the_integration_is_not_loaded(env):
    commands = CommandService(env.registry, lambda domain: None, Bus(), clock=env.clock)

    result = await commands.write(WriteRequest("d1.setpoint", 21.0))

    assert (result.outcome, result.refusal, result.reason) == (
        WriteOutcome.REFUSED,
        Refusal.NOT_LOADED,
        "integration 'fake' is not loaded",
    )
