"""One device's poll loop: due points read in batches at a fixed rate, exponential backoff while it fails.

Scheduling runs on the event loop's monotonic clock at a fixed rate (a late cycle does not shift the
next ones; slots that passed during an overrun are skipped and counted). Sample timestamps and a
device's `last_seen` come from the injected wall clock. hub.polling creates one loop per device.
"""

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hub.integration import DeviceError, Integration, PushIntegration
from hub.points import Device, DeviceState, DeviceStatus, Point, PointRegistry, Quality, Sample

_LOGGER = logging.getLogger(__name__)

# Retry delays vary by ±20 % so that devices which failed together do not retry together.
BACKOFF_JITTER = 0.2
_MAX_DOUBLINGS = 30
# A poll read is bounded by twice the device's shortest interval, within [min_read_timeout, this].
MAX_READ_TIMEOUT = 60.0
_LATENESS_SAMPLES = 16384


@dataclass(frozen=True)
class PollSettings:
    """The poller's tunables every device loop follows."""

    max_backoff: float = 300.0
    min_read_timeout: float = 5.0
    max_start_jitter: float = 5.0


@dataclass
class PollCounters:
    """Totals over every device loop of one poller, and each cycle's start lateness (loop time, s)."""

    cycles: int = 0
    reads: int = 0
    read_errors: int = 0
    points_read: int = 0
    missed: int = 0
    lateness: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=_LATENESS_SAMPLES))


@dataclass(frozen=True)
class DevicePollStats:
    """One device's polling figures."""

    device_id: str
    cycles: int  # completed poll cycles
    reads: int  # read() calls, batches of a cycle included
    read_errors: int
    consecutive_errors: int
    retry_delay: float | None  # seconds between the last failure and the next attempt, while failing


class _Group:
    """The points of a device that share an interval, and when they are next due (loop time).

    `lead` is how much earlier than one interval after the first cycle the second one comes: drawn
    at random over the interval, it moves each device to its own phase, so a site's reads spread over
    the whole interval instead of the few seconds in which every device first polled.
    """

    __slots__ = ("due", "interval", "lead", "points")

    def __init__(self, interval: float, due: float, lead: float) -> None:
        self.interval = interval
        self.points: list[Point] = []
        self.due = due
        self.lead = lead


class DeviceLoop:
    """The poll loop of one device; `run` is what the supervisor runs."""

    def __init__(
        self,
        device: Device,
        integration: Integration,
        registry: PointRegistry,
        clock: Callable[[], float],
        rng: random.Random,
        settings: PollSettings,
        counters: PollCounters,
    ) -> None:
        self.device = device
        self.integration = integration
        self.registry = registry
        self.clock = clock
        self.rng = rng
        self.settings = settings
        self.counters = counters
        self.groups: dict[float, _Group] = {}
        self.dirty = True
        self.changed = asyncio.Event()
        self.stopped = False
        self.started = False
        self.task: asyncio.Task[object] | None = None
        self.cycles = self.reads = self.read_errors = self.consecutive_errors = 0
        self.retry_at: float | None = None
        self.retry_delay: float | None = None
        self.marked_error: str | None = None  # the reason every point was last marked bad with
        self.pushes = isinstance(integration, PushIntegration)
        self.subscribed = False  # the device was asked to push changes of its current points
        self.subscribe_error: str | None = None

    def mark_dirty(self) -> None:
        """Re-read the device and its points from the registry at the next wake-up."""
        self.dirty = True
        self.changed.set()

    def stop(self) -> None:
        """End the loop now (cancels a read or sleep in progress)."""
        self.stopped = True
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def stats(self) -> DevicePollStats:
        """This device's figures now."""
        return DevicePollStats(
            self.device.id,
            self.cycles,
            self.reads,
            self.read_errors,
            self.consecutive_errors,
            self.retry_delay,
        )

    @property
    def shortest_interval(self) -> float:
        return min(self.groups, default=self.device.poll_interval)

    @property
    def read_limit(self) -> float:
        """How long one request to the device may take before it counts as not answering."""
        return max(self.settings.min_read_timeout, min(2 * self.shortest_interval, MAX_READ_TIMEOUT))

    async def run(self) -> None:
        """Poll due points until stopped (the supervisor restarts this after a crash)."""
        self.task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if self.stopped:
            return
        if not self.started:
            self.started = True
            self._rebuild(loop.time(), jitter=True)
        while not self.stopped:
            if self.dirty:
                self._rebuild(loop.time())
            if not self.groups:
                self.changed.clear()
                await self.changed.wait()
                continue
            wake = self.retry_at if self.retry_at is not None else min(g.due for g in self.groups.values())
            delay = wake - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
                continue  # look again: points may have changed, or the timer fired a hair early
            await self._cycle(loop)

    async def _cycle(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        retrying = self.retry_at is not None
        if retrying:
            due = list(self.groups.values())
        else:
            due = [g for g in self.groups.values() if g.due <= now]
            for group in due:
                self.counters.lateness.append((now, now - group.due))
        points = due[0].points if len(due) == 1 else [p for g in due for p in g.points]
        ok = await self._poll(points)
        end = loop.time()
        if not ok:
            self.retry_at = end + (self.retry_delay or self.shortest_interval)
            return
        self.retry_at = None
        if self.pushes and not self.subscribed:
            await self._subscribe()
        for group in due:
            step, group.lead = group.interval - group.lead, 0.0
            if retrying:
                group.due = now + step
                continue
            group.due += step
            if group.due <= end:  # the cycle overran its slot(s): skip them rather than bunch up
                missed = int((end - group.due) // group.interval) + 1
                group.due += missed * group.interval
                self.counters.missed += missed

    def _rebuild(self, now: float, jitter: bool = False) -> None:
        """Group the device's points by interval, keeping the due times of intervals already known."""
        registry = self.registry
        self.device = registry.device(self.device.id)
        by_interval: dict[float, list[Point]] = {}
        for point in registry.points(self.device.id):
            interval = point.poll_interval if point.poll_interval and point.poll_interval > 0 else None
            by_interval.setdefault(interval or self.device.poll_interval, []).append(point)
        spread = min(min(by_interval, default=0.0), self.settings.max_start_jitter) if jitter else 0.0
        first = now + self.rng.uniform(0, spread)
        old = self.groups
        self.groups = {}
        for interval, points in by_interval.items():
            group = old.get(interval) or _Group(interval, first, self.rng.uniform(0, interval - spread))
            group.points = points
            self.groups[interval] = group
        self.dirty = False
        self.subscribed = False  # the points changed: ask for pushes of the new set

    async def _poll(self, points: Sequence[Point]) -> bool:
        """Read `points` batch by batch; the first failing batch ends the cycle (one timeout, not N)."""
        counters = self.counters
        size = max(1, self.integration.batch_size)
        limit = self.read_limit
        for start in range(0, len(points), size):
            batch = points[start : start + size]
            self.reads += 1
            counters.reads += 1
            timeout = asyncio.timeout(limit)
            try:
                async with timeout:
                    result = await self.integration.read(batch)
            except DeviceError as err:
                self._failed(DeviceStatus.OFFLINE, str(err) or "device error")
                return False
            except TimeoutError as err:
                expired = timeout.expired()
                reason = f"no answer within {limit:g} s" if expired else (str(err) or "timed out")
                self._failed(DeviceStatus.OFFLINE, reason)
                return False
            except Exception as err:
                if self.consecutive_errors == 0:
                    _LOGGER.warning(
                        "%s: read of device %s raised", self.device.domain, self.device.id, exc_info=True
                    )
                self._failed(DeviceStatus.ERROR, f"{type(err).__name__}: {err}")
                return False
            if self.stopped:
                return False
            self._accept(batch, result)
        self._succeeded()
        return True

    async def _subscribe(self) -> None:
        """Ask a push-capable device for changes of every point; polling goes on (and retries this) if not."""
        points = [point for group in self.groups.values() for point in group.points]
        try:
            async with asyncio.timeout(self.read_limit):
                await self.integration.subscribe(points)  # type: ignore[attr-defined]
        except Exception as err:
            reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            if reason != self.subscribe_error:
                _LOGGER.warning(
                    "device %s: cannot subscribe to changes, polling only: %s", self.device.id, reason
                )
            self.subscribe_error = reason
            return
        self.subscribed = True
        self.subscribe_error = None

    def _accept(self, batch: Sequence[Point], result: Mapping[str, Sample]) -> None:
        update = self.registry.update
        missing: Sample | None = None
        for point in batch:
            sample = result.get(point.id)
            if sample is None:
                missing = missing or Sample(None, self.clock(), Quality.BAD, "no value returned")
                sample = missing
            update(point.id, sample)
        self.counters.points_read += len(batch)

    def _succeeded(self) -> None:
        registry = self.registry
        state = registry.device_state(self.device.id)
        if self.consecutive_errors:
            _LOGGER.info(
                "device %s is back online after %d failed attempts", self.device.id, self.consecutive_errors
            )
        self.consecutive_errors = 0
        self.retry_delay = None
        self.marked_error = None
        self.cycles += 1
        self.counters.cycles += 1
        online = DeviceState(DeviceStatus.ONLINE, self.clock(), state.error_count, state.last_error)
        registry.set_device_state(self.device.id, online)

    def _failed(self, status: DeviceStatus, reason: str) -> None:
        """Count the error, set the next retry (doubling, jittered); mark every point bad once per reason."""
        registry = self.registry
        self.read_errors += 1
        self.counters.read_errors += 1
        self.consecutive_errors += 1
        base = self.shortest_interval * 2 ** min(self.consecutive_errors - 1, _MAX_DOUBLINGS)
        jitter = self.rng.uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER)
        self.retry_delay = min(self.settings.max_backoff, base * jitter)
        state = registry.device_state(self.device.id)
        registry.set_device_state(
            self.device.id, DeviceState(status, state.last_seen, state.error_count + 1, reason)
        )
        self.subscribed = False  # a device that went away forgot its subscriptions
        log = _LOGGER.warning if self.consecutive_errors == 1 else _LOGGER.debug
        log("device %s %s: %s (retry in %.1f s)", self.device.id, status, reason, self.retry_delay)
        if reason != self.marked_error:
            self.marked_error = reason
            bad = Sample(None, self.clock(), Quality.BAD, reason)
            for group in self.groups.values():
                for point in group.points:
                    registry.update(point.id, bad)
