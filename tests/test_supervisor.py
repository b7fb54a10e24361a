"""Supervised tasks: restarted with backoff after a crash, left alone after returning, cancelled on stop."""

import asyncio
import logging

import pytest

from hub.health import HealthStatus
from hub.supervisor import Backoff, Supervisor

FAST = Backoff(initial=0.01, maximum=0.04, stable=60, degraded_after=3)


def restart_delays(caplog: pytest.LogCaptureFixture, name: str) -> list[float]:
    """The delays the supervisor announced in its 'crashed (restart N in Xs)' log lines."""
    return [r.args[2] for r in caplog.records if r.name == "hub.supervisor" and r.args[0] == name]  # type: ignore[index]


def crashing(times: int, reached: asyncio.Event, error: type[Exception] = RuntimeError):
    """A factory that raises `times` times, then sets `reached` and runs until cancelled."""
    calls = 0

    async def run() -> None:
        nonlocal calls
        calls += 1
        if calls <= times:
            raise error(f"crash {calls}")
        reached.set()
        await asyncio.Event().wait()

    return run


async def test_a_crashing_task_is_restarted_with_doubling_backoff(caplog):
    supervisor = Supervisor(FAST)
    recovered = asyncio.Event()
    supervisor.spawn("worker", crashing(5, recovered))
    try:
        async with asyncio.timeout(5):
            await recovered.wait()
        assert restart_delays(caplog, "worker") == [0.01, 0.02, 0.04, 0.04, 0.04]
        assert supervisor.health().detail["tasks"]["worker"] == {  # type: ignore[index]
            "running": True,
            "restarts": 5,
            "last_error": "RuntimeError: crash 5",
        }
    finally:
        await supervisor.stop()


async def test_backoff_resets_after_a_stable_run(caplog):
    # With stable=0 every run counts as stable: the delay never grows and the task never degrades.
    supervisor = Supervisor(Backoff(initial=0.01, maximum=1.0, stable=0.0, degraded_after=3))
    fourth_run = asyncio.Event()
    supervisor.spawn("worker", crashing(3, fourth_run))
    try:
        async with asyncio.timeout(5):
            await fourth_run.wait()
        assert restart_delays(caplog, "worker") == [0.01, 0.01, 0.01]
        assert supervisor.health().status == HealthStatus.OK
    finally:
        await supervisor.stop()


async def test_repeated_crashes_degrade_health():
    supervisor = Supervisor(FAST)
    ran_again = asyncio.Event()
    supervisor.spawn("poller", crashing(FAST.degraded_after, ran_again, OSError))
    try:
        async with asyncio.timeout(5):
            await ran_again.wait()
        # Running again is not recovery: only `stable` seconds of running clear the failures.
        health = supervisor.health()
        assert health.status == HealthStatus.DEGRADED
        assert health.detail["failing"] == ["poller"]
        assert health.detail["tasks"]["poller"]["last_error"] == "OSError: crash 3"  # type: ignore[index]
    finally:
        await supervisor.stop()


async def test_fewer_crashes_than_the_threshold_stay_ok():
    supervisor = Supervisor(FAST)
    ran_again = asyncio.Event()
    supervisor.spawn("poller", crashing(FAST.degraded_after - 1, ran_again))
    try:
        async with asyncio.timeout(5):
            await ran_again.wait()
        assert supervisor.health().status == HealthStatus.OK
    finally:
        await supervisor.stop()


async def test_a_task_that_returns_is_not_restarted():
    supervisor = Supervisor(FAST)
    calls = 0
    ran = asyncio.Event()

    async def once() -> None:
        nonlocal calls
        calls += 1
        ran.set()

    supervisor.spawn("once", once)
    async with asyncio.timeout(5):
        await ran.wait()
    await asyncio.sleep(0.1)  # longer than any backoff: show that no restart happens
    assert calls == 1
    assert supervisor.health().detail["tasks"]["once"] == {  # type: ignore[index]
        "running": False,
        "restarts": 0,
        "last_error": None,
    }
    ran.clear()
    supervisor.spawn("once", once)  # a finished task's name can be used again
    async with asyncio.timeout(5):
        await ran.wait()
    assert calls == 2
    await supervisor.stop()


async def test_stop_cancels_running_tasks():
    supervisor = Supervisor(FAST)
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    supervisor.spawn("forever", forever)
    async with asyncio.timeout(5):
        await started.wait()
    await supervisor.stop()
    assert cancelled.is_set()
    assert supervisor.health().detail["tasks"]["forever"]["running"] is False  # type: ignore[index]


async def test_stop_cancels_a_task_waiting_for_its_restart():
    supervisor = Supervisor(Backoff(initial=3600, maximum=3600))
    never = asyncio.Event()
    supervisor.spawn("crash", crashing(1, never))
    async with asyncio.timeout(5):
        await asyncio.sleep(0)  # let it crash and start its hour-long backoff
        await supervisor.stop()  # must not wait out the backoff
    assert supervisor.health().detail["tasks"]["crash"]["restarts"] == 1  # type: ignore[index]


async def test_spawning_a_running_name_twice_is_refused():
    supervisor = Supervisor(FAST)
    supervisor.spawn("one", lambda: asyncio.Event().wait())
    with pytest.raises(ValueError, match="already running"):
        supervisor.spawn("one", lambda: asyncio.Event().wait())
    await supervisor.stop()


async def test_crash_is_logged_with_its_traceback(caplog):
    supervisor = Supervisor(FAST)
    recovered = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="hub.supervisor"):
        supervisor.spawn("crash", crashing(1, recovered, KeyError))
        async with asyncio.timeout(5):
            await recovered.wait()
    await supervisor.stop()
    record = next(r for r in caplog.records if r.name == "hub.supervisor")
    assert "task crash crashed" in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[0] is KeyError
