"""The poller against the fake integration on the real event loop: tests wait for bus events, never sleep."""

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from hub.bus import Bus
from hub.device_poll import BACKOFF_JITTER
from hub.integration import DeviceError
from hub.points import (
    Device,
    DeviceStatus,
    DeviceStatusChanged,
    Point,
    PointRegistry,
    PointUpdate,
    Quality,
    Sample,
)
from hub.polling import Poller
from hub.supervisor import Supervisor
from tests.fake_devices import FakeClock, FakeIntegration, analog_points

WAIT_S = 10.0  # bound on any single wait; a healthy run takes milliseconds
E = TypeVar("E")


class Events:
    """Bus events of the given types, queued in order for the test to await."""

    def __init__(self, bus: Bus, *types: type) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.skipped: list[Any] = []  # seen while waiting for another event; later waits look here first
        for event_type in types:
            bus.subscribe(event_type, self.queue.put_nowait)

    async def next(self, event_type: type[E], match: Callable[[E], bool] = lambda _: True) -> E:
        """The oldest unclaimed event of `event_type` that matches."""
        for index, event in enumerate(self.skipped):
            if isinstance(event, event_type) and match(event):
                return self.skipped.pop(index)
        async with asyncio.timeout(WAIT_S):
            while True:
                event = await self.queue.get()
                if isinstance(event, event_type) and match(event):
                    return event
                self.skipped.append(event)

    async def update_of(self, point_id: str) -> PointUpdate:
        return await self.next(PointUpdate, lambda e: e.point.id == point_id)

    async def status_of(self, device_id: str, status: DeviceStatus) -> DeviceStatusChanged:
        return await self.next(
            DeviceStatusChanged, lambda e: e.device.id == device_id and e.state.status == status
        )


@dataclass
class Env:
    bus: Bus
    registry: PointRegistry
    poller: Poller
    fake: FakeIntegration
    events: Events


@pytest.fixture
async def make_env() -> AsyncIterator[Callable[..., Env]]:
    """Build registry + poller + fake integration; every supervised poll loop is stopped afterwards."""
    supervisors: list[Supervisor] = []

    def make(clock: Callable[[], float] = time.time, batch_size: int = 10, **poller_kwargs: Any) -> Env:
        poller_kwargs.setdefault("max_start_jitter", 0.01)
        bus = Bus()
        events = Events(bus, PointUpdate, DeviceStatusChanged)
        registry = PointRegistry(bus, clock=clock)
        supervisor = Supervisor()
        supervisors.append(supervisor)
        poller = Poller(registry, supervisor, clock=clock, seed=1, **poller_kwargs)
        return Env(
            bus, registry, poller, FakeIntegration(registry, batch_size=batch_size, clock=clock), events
        )

    yield make
    for supervisor in supervisors:
        await supervisor.stop()


def device(device_id: str, interval: float = 0.02, domain: str = "fake") -> Device:
    return Device(device_id, device_id.upper(), domain, poll_interval=interval)


async def test_poll__reads_every_point_in_batches_of_the_batch_size(make_env):
    env = make_env(batch_size=10)
    points = analog_points("d1", 25)
    env.fake.add_device(device("d1", interval=3600), points, value=1.5)
    env.poller.attach("fake", env.fake)

    online = await env.events.status_of("d1", DeviceStatus.ONLINE)

    assert [len(call.point_ids) for call in env.fake.history] == [10, 10, 5]
    assert {p.id: env.registry.latest(p.id).value for p in points} == {p.id: 1.5 for p in points}
    assert online.state.last_seen is not None
    assert env.poller.device_stats("d1").cycles == 1


async def test_poll__each_point_at_its_own_interval(make_env):
    env = make_env()
    fast = Point("d1.fast", "d1", "fast", poll_interval=0.01)
    slow = Point("d1.slow", "d1", "slow")  # the device's interval: an hour
    env.fake.add_device(device("d1", interval=3600), [fast, slow])
    env.poller.attach("fake", env.fake)

    for _ in range(4):
        await env.events.update_of("d1.fast")

    assert env.fake.history[0].point_ids == ("d1.fast", "d1.slow")  # both start due after the jitter
    assert all(call.point_ids == ("d1.fast",) for call in env.fake.history[1:])


async def test_poll__devices_first_poll_together_then_settle_at_phases_spread_over_the_interval(make_env):
    interval = 1.0
    env = make_env(max_start_jitter=0.01)
    ids = [f"d{i}" for i in range(40)]
    for device_id in ids:
        env.fake.add_device(device(device_id, interval=interval), analog_points(device_id, 1))
    env.poller.attach("fake", env.fake)
    reads: dict[str, list[float]] = {device_id: [] for device_id in ids}
    async with asyncio.timeout(WAIT_S):
        while any(len(times) < 2 for times in reads.values()):
            call = await env.fake.calls.get()
            reads[call.device_id].append(call.at)

    firsts = [times[0] for times in reads.values()]
    phases = sorted(times[1] - min(firsts) for times in reads.values())
    # Without settling every second read would come one interval after the first, within 0.01 s of
    # each other; spread at random over the interval, 40 phases leave no gap near half of it.
    assert phases[-1] - phases[0] > interval / 2
    assert max(b - a for a, b in itertools.pairwise(phases)) < interval / 2
    assert all(times[1] - times[0] < interval + 0.5 for times in reads.values())  # early, never late


async def test_poll__a_hanging_device_does_not_delay_another(make_env):
    env = make_env(min_read_timeout=3600)  # the hanging read is never cut short during the test
    stuck = env.fake.add_device(device("stuck"), analog_points("stuck", 3))
    env.fake.add_device(device("healthy"), analog_points("healthy", 3))
    stuck.hang()
    env.poller.attach("fake", env.fake)
    async with asyncio.timeout(WAIT_S):
        await stuck.hang_entered.wait()
    hung_at = time.time()

    def fresh(event: PointUpdate) -> bool:
        return event.point.id == "healthy.p0" and event.sample.timestamp > hung_at

    timestamps = [(await env.events.next(PointUpdate, fresh)).sample.timestamp for _ in range(5)]

    assert timestamps == sorted(set(timestamps))  # a new sample every cycle...
    assert env.registry.latest("stuck.p0") is None  # ...while the other is still inside its first read
    assert [c.device_id for c in env.fake.history].count("stuck") == 1
    stuck.release()
    assert (await env.events.update_of("stuck.p0")).sample.timestamp > timestamps[-1]


async def test_poll__a_read_that_times_out_marks_the_device_offline_and_its_points_bad(make_env):
    env = make_env(min_read_timeout=0.05)
    stuck = env.fake.add_device(device("stuck"), analog_points("stuck", 3))
    env.fake.add_device(device("healthy"), analog_points("healthy", 1))
    stuck.hang()
    env.poller.attach("fake", env.fake)

    offline = await env.events.status_of("stuck", DeviceStatus.OFFLINE)

    assert offline.state.last_error == "no answer within 0.05 s"
    assert offline.state.error_count == 1
    for n in range(3):
        sample = env.registry.latest(f"stuck.p{n}")
        assert (sample.quality, sample.reason, sample.value) == (Quality.BAD, "no answer within 0.05 s", None)
    await env.events.status_of("healthy", DeviceStatus.ONLINE)


async def test_poll__backoff_doubles_then_recovery_resets_it(make_env):
    interval = 0.01
    env = make_env(max_backoff=300)
    flaky = env.fake.add_device(device("flaky", interval=interval), analog_points("flaky", 2))
    flaky.fail(3, DeviceError("connection refused"))
    env.poller.attach("fake", env.fake)

    attempts, delays = [], []
    async with asyncio.timeout(WAIT_S):
        for expected_errors in (1, 2, 3):
            attempts.append((await env.fake.calls.get()).at)
            stats = env.poller.device_stats("flaky")  # the loop handled the failure before it slept
            assert stats.consecutive_errors == expected_errors
            delays.append(stats.retry_delay)
        attempts.append((await env.fake.calls.get()).at)
    online = await env.events.status_of("flaky", DeviceStatus.ONLINE)

    for n, delay in enumerate(delays):
        base = interval * 2**n
        assert base * (1 - BACKOFF_JITTER) <= delay <= base * (1 + BACKOFF_JITTER)
        assert attempts[n + 1] - attempts[n] >= delay  # the next attempt waited at least that long
    assert delays == sorted(delays)
    assert online.state.error_count == 3
    assert online.state.last_error == "connection refused"
    stats = env.poller.device_stats("flaky")
    assert (stats.consecutive_errors, stats.retry_delay, stats.read_errors) == (0, None, 3)
    assert env.registry.latest("flaky.p0").quality == Quality.GOOD


async def test_poll__backoff_is_capped_by_max_backoff(make_env):
    env = make_env(max_backoff=0.03)
    dead = env.fake.add_device(device("dead", interval=0.01), analog_points("dead", 1))
    dead.fail(6, DeviceError("unreachable"))
    env.poller.attach("fake", env.fake)

    async with asyncio.timeout(WAIT_S):
        for _ in range(6):
            await env.fake.calls.get()
            delay = env.poller.device_stats("dead").retry_delay
            assert delay is not None
            assert delay <= 0.03
    assert delay == 0.03  # 0.01 x 2^5, jittered, is far beyond the cap


async def test_poll__marks_points_bad_once_per_reason(make_env):
    env = make_env()
    dead = env.fake.add_device(device("dead"), analog_points("dead", 1))
    dead.fail(3, DeviceError("unreachable"))
    env.poller.attach("fake", env.fake)

    bad = await env.events.update_of("dead.p0")
    good = await env.events.update_of("dead.p0")

    assert (bad.sample.quality, bad.sample.reason) == (Quality.BAD, "unreachable")
    assert good.sample.quality == Quality.GOOD  # the 2nd and 3rd failures published nothing new
    assert env.poller.device_stats("dead").read_errors == 3


async def test_poll__an_integration_that_raises_something_else_puts_the_device_in_error(make_env):
    env = make_env()
    broken = env.fake.add_device(device("broken"), analog_points("broken", 1))
    broken.fail(1, RuntimeError("boom"))
    env.poller.attach("fake", env.fake)

    error = await env.events.status_of("broken", DeviceStatus.ERROR)

    assert error.state.last_error == "RuntimeError: boom"
    await env.events.status_of("broken", DeviceStatus.ONLINE)


async def test_poll__a_point_the_device_does_not_return_is_bad(make_env):
    env = make_env()
    fake = env.fake.add_device(device("d1", interval=3600), analog_points("d1", 2))
    fake.values["d1.p1"] = None  # the fake omits points without a value
    env.poller.attach("fake", env.fake)

    update = await env.events.update_of("d1.p1")

    assert (update.sample.quality, update.sample.reason) == (Quality.BAD, "no value returned")
    assert env.registry.latest("d1.p0").quality == Quality.GOOD


async def test_stale__after_stale_factor_intervals_without_a_sample(make_env):
    clock = FakeClock()
    env = make_env(clock=clock, min_read_timeout=3600)
    silent = env.fake.add_device(device("d1", interval=0.02), analog_points("d1", 1))
    env.poller.attach("fake", env.fake)
    first = await env.events.update_of("d1.p0")
    silent.hang()  # before the loop runs again: the device goes silent
    async with asyncio.timeout(WAIT_S):
        await silent.hang_entered.wait()

    factor = env.registry.stale_factor
    clock.now = first.sample.timestamp + factor * 0.02 * 0.99
    assert not env.registry.is_stale("d1.p0")
    clock.now = first.sample.timestamp + factor * 0.02 * 1.01
    assert env.registry.is_stale("d1.p0")

    silent.release()
    await env.events.update_of("d1.p0")
    assert not env.registry.is_stale("d1.p0")


async def test_deadband__on_polls(make_env):
    env = make_env()
    point = Point("d1.temp", "d1", "temp", cov_increment=0.5)
    fake = env.fake.add_device(device("d1", interval=0.01), [point])
    fake.script("d1.temp", [20.0, 20.2, 20.4, 20.6, 20.7, 21.2])
    env.poller.attach("fake", env.fake)

    values = [(await env.events.update_of("d1.temp")).sample.value for _ in range(3)]

    assert values == [20.0, 20.6, 21.2]


def test_deadband__on_pushes():
    bus = Bus()
    registry = PointRegistry(bus)
    poller = Poller(registry, Supervisor())
    registry.add_device(device("d1"), [Point("d1.temp", "d1", "temp", cov_increment=0.5)])
    published: list[PointUpdate] = []
    bus.subscribe(PointUpdate, published.append)

    for n, (value, quality) in enumerate(
        [(20.0, Quality.GOOD), (20.3, Quality.GOOD), (20.6, Quality.GOOD), (20.7, Quality.UNCERTAIN)]
    ):
        poller.report("d1.temp", Sample(value, 1000.0 + n, quality))

    assert [(u.sample.value, u.sample.quality) for u in published] == [
        (20.0, Quality.GOOD),
        (20.6, Quality.GOOD),
        (20.7, Quality.UNCERTAIN),  # a change of quality always passes
    ]
    assert registry.latest("d1.temp").timestamp == 1003.0
    assert poller.health().detail["pushes"] == 4


async def test_attach__picks_up_devices_and_points_registered_later(make_env):
    env = make_env()
    env.poller.attach("fake", env.fake)
    env.fake.add_device(device("late", interval=0.01), analog_points("late", 1))
    await env.events.update_of("late.p0")

    env.registry.add_point(Point("late.extra", "late", "extra"))
    env.fake.devices["late"].values["late.extra"] = 7.0

    assert (await env.events.update_of("late.extra")).sample.value == 7.0


async def test_detach__stops_polling_and_attach_again_resumes(make_env):
    env = make_env()
    other = FakeIntegration(env.registry, domain="other")
    env.fake.add_device(device("d1", interval=0.01), analog_points("d1", 1))
    other.add_device(device("o1", interval=0.01, domain="other"), analog_points("o1", 1))
    env.poller.attach("fake", env.fake)
    env.poller.attach("other", other)
    await env.events.update_of("d1.p0")

    env.poller.detach("fake")
    reads = len(env.fake.history)
    for _ in range(5):  # five cycles of the other domain
        await env.events.update_of("o1.p0")
    assert len(env.fake.history) == reads

    env.poller.attach("fake", env.fake)  # the old loop may still be finishing its cancellation
    await env.events.update_of("d1.p0")
    assert len(env.fake.history) > reads


async def test_detach__and_attach_at_once_while_the_old_loop_is_still_finishing(make_env):
    env = make_env()
    env.fake.add_device(device("d1", interval=0.01), analog_points("d1", 1))
    env.poller.attach("fake", env.fake)
    await env.events.update_of("d1.p0")

    env.poller.detach("fake")
    env.poller.attach("fake", env.fake)
    for _ in range(3):
        await env.events.update_of("d1.p0")

    assert env.poller.health().detail["devices"] == 1


async def test_remove_domain__stops_its_loops(make_env):
    env = make_env()
    env.fake.add_device(device("d1", interval=0.01), analog_points("d1", 1))
    other = FakeIntegration(env.registry, domain="other")
    other.add_device(device("o1", interval=0.01, domain="other"), analog_points("o1", 1))
    env.poller.attach("fake", env.fake)
    env.poller.attach("other", other)
    await env.events.update_of("d1.p0")

    env.registry.remove_domain("fake")
    reads = len(env.fake.history)
    for _ in range(5):
        await env.events.update_of("o1.p0")

    assert len(env.fake.history) == reads
    assert env.poller.health().detail["devices"] == 1


async def test_read_now__reads_through_the_integrations(make_env):
    env = make_env(min_read_timeout=0.05)
    env.fake.add_device(device("d1", interval=3600), analog_points("d1", 2), value=3.0)
    dead = env.fake.add_device(device("dead", interval=3600), analog_points("dead", 1))
    orphan = FakeIntegration(env.registry, domain="orphan")
    orphan.add_device(device("o1", domain="orphan"), analog_points("o1", 1))
    env.poller.attach("fake", env.fake)
    dead.hang()

    samples = await env.poller.read_now(["d1.p0", "d1.p1", "dead.p0", "o1.p0", "nope"])

    assert list(samples) == ["d1.p0", "d1.p1", "dead.p0", "o1.p0", "nope"]
    assert samples["d1.p0"].value == 3.0
    assert env.registry.latest("d1.p1").value == 3.0
    assert {
        pid: (s.quality, s.reason) for pid, s in samples.items() if pid != "d1.p0" and pid != "d1.p1"
    } == {
        "dead.p0": (Quality.BAD, "no answer within 0.05 s"),
        "o1.p0": (Quality.BAD, "integration 'orphan' is not loaded"),
        "nope": (Quality.BAD, "unknown point"),
    }


async def test_health__counts_cycles_and_lateness(make_env):
    env = make_env()
    env.fake.add_device(device("d1", interval=0.01), analog_points("d1", 1))
    env.poller.attach("fake", env.fake)
    for _ in range(3):
        await env.events.update_of("d1.p0")

    detail = env.poller.health().detail

    assert detail["cycles"] >= 3
    assert detail["devices"] == detail["devices_online"] == 1
    assert detail["read_errors"] == 0
    assert detail["lateness_ms"]["cycles"] >= 3  # type: ignore[index]
    assert set(detail["lateness_ms"]) == {"window_s", "cycles", "p50", "p99", "max"}  # type: ignore[arg-type]


class PushFake(FakeIntegration):
    """A fake whose devices push changes: each subscribe() call is queued; the first `refusals` raise."""

    def __init__(self, *args: Any, refusals: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subscriptions: asyncio.Queue[tuple[str, ...]] = asyncio.Queue()
        self.refusals = refusals

    async def subscribe(self, points: Sequence[Point]) -> None:
        self.subscriptions.put_nowait(tuple(p.id for p in points))
        if self.refusals:
            self.refusals -= 1
            raise DeviceError("subscription table full")


async def test_push__subscribes_once_online_and_again_after_the_device_comes_back(make_env):
    env = make_env()
    pushing = PushFake(env.registry, refusals=1)
    flaky = pushing.add_device(device("d1", interval=0.01), analog_points("d1", 2))
    env.poller.attach("fake", pushing)

    async with asyncio.timeout(WAIT_S):
        refused = await pushing.subscriptions.get()  # refused: polling goes on and it is asked again
        accepted = await pushing.subscriptions.get()
        calls_before = len(pushing.history)
        flaky.fail(1, DeviceError("unreachable"))  # it went away, so it forgot its subscriptions
        again = await pushing.subscriptions.get()

    assert refused == accepted == again == ("d1.p0", "d1.p1")
    assert len(pushing.history) > calls_before
    assert pushing.subscriptions.empty()  # not asked again while it stayed subscribed
    env.poller.report("d1.p0", Sample(42.0, time.time()))
    assert env.registry.latest("d1.p0").value == 42.0


async def test_pause__stops_polls_and_pushes_until_resume(make_env):
    env, clock_env = make_env(), make_env()  # the second poller's cycles show time passing
    env.fake.add_device(device("d1", interval=0.01), analog_points("d1", 1))
    clock_env.fake.add_device(device("tick", interval=0.01), analog_points("tick", 1))
    env.poller.attach("fake", env.fake)
    clock_env.poller.attach("fake", clock_env.fake)
    await env.events.update_of("d1.p0")

    env.poller.pause()
    reads = len(env.fake.history)
    env.fake.add_device(device("d2", interval=0.01), analog_points("d2", 1))  # not polled while paused
    env.poller.report("d1.p0", Sample(99.0, time.time()))  # a push is ignored too
    for _ in range(5):
        await clock_env.events.update_of("tick.p0")
    assert len(env.fake.history) == reads
    assert env.registry.latest("d1.p0").value != 99.0
    assert env.poller.health().detail["paused"] is True

    env.poller.resume()
    await env.events.update_of("d2.p0")
    await env.events.update_of("d1.p0")
    assert env.poller.health().detail["devices"] == 2
