"""Polling: one supervised loop per device (hub.device_poll) for every attached integration.

The Poller follows the registry (devices and points registered later are picked up), answers
on-demand reads, and is the one entry for pushed (COV) samples: `report` takes the same path as a
poll, the registry applying the point's deadband and publishing each accepted change.
"""

import asyncio
import itertools
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hub.device_poll import DeviceLoop, DevicePollStats, PollCounters, PollSettings
from hub.health import ComponentHealth, HealthStatus
from hub.integration import DeviceError, Integration
from hub.points import (
    Device,
    DeviceAdded,
    DeviceStatus,
    DomainRemoved,
    Point,
    PointAdded,
    PointRegistry,
    Quality,
    Sample,
)
from hub.supervisor import Supervisor

_LOGGER = logging.getLogger(__name__)

__all__ = ["DevicePollStats", "LatenessSummary", "Poller"]


@dataclass(frozen=True)
class LatenessSummary:
    """How late poll cycles started (seconds after they were due) over the recent window."""

    window: float
    cycles: int
    p50: float
    p99: float
    max: float


class Poller:
    """Schedules the reads of every attached integration's devices; the one entry for samples.

    Each device's first cycle starts after a random delay of up to its shortest interval (at most
    `max_start_jitter` s), so values come soon after a start. Its second cycle comes early by a random
    part of the interval, so that devices then poll at phases spread over the whole interval rather
    than in the few seconds after the start. A poll read is cut short after twice the device's
    shortest interval, within [`min_read_timeout`, MAX_READ_TIMEOUT]; an on-demand read
    (`read_now`) after `min_read_timeout`. `lateness_window` is the span of `lateness()`.
    """

    def __init__(
        self,
        registry: PointRegistry,
        supervisor: Supervisor,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
        max_backoff: float = 300.0,
        *,
        min_read_timeout: float = 5.0,
        max_start_jitter: float = 5.0,
        lateness_window: float = 60.0,
    ) -> None:
        self._registry = registry
        self._supervisor = supervisor
        self._clock = clock
        self._rng = random.Random(seed)
        self._settings = PollSettings(max_backoff, min_read_timeout, max_start_jitter)
        self._lateness_window = lateness_window
        self._integrations: dict[str, Integration] = {}
        self._loops: dict[str, DeviceLoop] = {}
        self._counters = PollCounters()
        self._pushes = 0
        self._paused = False
        bus = registry.bus
        bus.subscribe(DeviceAdded, self._on_device_added)
        bus.subscribe(PointAdded, self._on_point_added)
        bus.subscribe(DomainRemoved, self._on_domain_removed)

    def attach(self, domain: str, integration: Integration) -> None:
        """Poll every device of `domain`, now and as more are registered."""
        if domain in self._integrations:
            raise ValueError(f"integration {domain!r} is already attached")
        self._integrations[domain] = integration
        for device in [d for d in self._registry.devices() if d.domain == domain]:
            if device.id not in self._loops:
                self._start(device, integration)

    def detach(self, domain: str) -> None:
        """Stop polling `domain`'s devices (it is unloading)."""
        self._integrations.pop(domain, None)
        for device_id in [i for i, r in self._loops.items() if r.device.domain == domain]:
            self._loops.pop(device_id).stop()

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Stop every poll loop and ignore pushed samples until resume() (monitoring off)."""
        self._paused = True
        for device_loop in self._loops.values():
            device_loop.stop()
        self._loops.clear()

    def resume(self) -> None:
        """Poll every attached integration's devices again."""
        if not self._paused:
            return
        self._paused = False
        for domain, integration in self._integrations.items():
            for device in [d for d in self._registry.devices() if d.domain == domain]:
                self._start(device, integration)

    def report(self, point_id: str, sample: Sample) -> None:
        """Accept a pushed sample (COV): same deadband and publication as a polled one."""
        if self._paused:
            return
        self._pushes += 1
        self._registry.update(point_id, sample)

    async def read_now(self, point_ids: Sequence[str]) -> dict[str, Sample]:
        """Read points through their integrations now; failures come back as bad samples with the reason."""
        results: dict[str, Sample] = {}
        by_device: dict[str, list[Point]] = {}
        for point_id in dict.fromkeys(point_ids):
            try:
                point = self._registry.point(point_id)
            except KeyError:
                results[point_id] = Sample(None, self._clock(), Quality.BAD, "unknown point")
                continue
            by_device.setdefault(point.device_id, []).append(point)
        for part in await asyncio.gather(*(self._read_device(d, p) for d, p in by_device.items())):
            results.update(part)
        return {point_id: results[point_id] for point_id in dict.fromkeys(point_ids)}

    async def _read_device(self, device_id: str, points: list[Point]) -> dict[str, Sample]:
        domain = self._registry.device(device_id).domain
        integration = self._integrations.get(domain)
        if integration is None:
            return self._bad(points, f"integration {domain!r} is not loaded")
        results: dict[str, Sample] = {}
        size = max(1, integration.batch_size)
        limit = self._settings.min_read_timeout  # someone is waiting for the answer
        for start in range(0, len(points), size):
            batch = points[start : start + size]
            try:
                async with asyncio.timeout(limit):
                    read = await integration.read(batch)
            except TimeoutError:
                return {**results, **self._bad(points[start:], f"no answer within {limit:g} s")}
            except Exception as err:
                reason = str(err) if isinstance(err, DeviceError) else f"{type(err).__name__}: {err}"
                return {**results, **self._bad(points[start:], reason or "device error")}
            for point in batch:
                sample = read.get(point.id)
                if sample is None:
                    results[point.id] = Sample(None, self._clock(), Quality.BAD, "no value returned")
                else:
                    self._registry.update(point.id, sample)
                    results[point.id] = sample
        return results

    def _bad(self, points: Sequence[Point], reason: str) -> dict[str, Sample]:
        sample = Sample(None, self._clock(), Quality.BAD, reason)
        return {point.id: sample for point in points}

    def lateness(self) -> LatenessSummary:
        """Poll-cycle start lateness over the last `lateness_window` seconds."""
        since = time.monotonic() - self._lateness_window
        values = sorted(late for at, late in self._counters.lateness if at >= since)
        if not values:
            return LatenessSummary(self._lateness_window, 0, 0.0, 0.0, 0.0)
        count = len(values)
        return LatenessSummary(
            self._lateness_window,
            count,
            values[min(count - 1, int(0.50 * count))],
            values[min(count - 1, int(0.99 * count))],
            values[-1],
        )

    def device_stats(self, device_id: str) -> DevicePollStats:
        """Polling figures of one polled device (KeyError if it is not polled)."""
        return self._loops[device_id].stats()

    def health(self) -> ComponentHealth:
        """Counts and lateness; a dead field device is the site's problem, shown here but not 'degraded'."""
        statuses: Counter[DeviceStatus] = Counter()
        for device_id in self._loops:
            try:
                statuses[self._registry.device_state(device_id).status] += 1
            except KeyError:
                continue
        late = self.lateness()
        counters = self._counters
        detail: dict[str, object] = {
            "devices": len(self._loops),
            **{f"devices_{status}": statuses[status] for status in DeviceStatus},
            "cycles": counters.cycles,
            "reads": counters.reads,
            "read_errors": counters.read_errors,
            "points_read": counters.points_read,
            "pushes": self._pushes,
            "paused": self._paused,
            "missed_cycles": counters.missed,
            "lateness_ms": {
                "window_s": late.window,
                "cycles": late.cycles,
                "p50": round(late.p50 * 1000, 3),
                "p99": round(late.p99 * 1000, 3),
                "max": round(late.max * 1000, 3),
            },
        }
        return ComponentHealth(HealthStatus.OK, detail)

    # -- internals -----------------------------------------------------------------------

    def _start(self, device: Device, integration: Integration) -> None:
        if self._paused:
            return
        device_loop = DeviceLoop(
            device, integration, self._registry, self._clock, self._rng, self._settings, self._counters
        )
        self._loops[device.id] = device_loop
        # A detached loop of the same device may still be finishing its cancellation.
        for name in itertools.chain(
            [f"poll.{device.id}"], (f"poll.{device.id}.{n}" for n in itertools.count(2))
        ):
            try:
                self._supervisor.spawn(name, device_loop.run)
            except ValueError:
                continue
            return

    def _on_device_added(self, event: DeviceAdded) -> None:
        device_loop = self._loops.get(event.device.id)
        if device_loop is not None:
            device_loop.mark_dirty()
            return
        integration = self._integrations.get(event.device.domain)
        if integration is not None:
            self._start(event.device, integration)

    def _on_point_added(self, event: PointAdded) -> None:
        device_loop = self._loops.get(event.point.device_id)
        if device_loop is not None:
            device_loop.mark_dirty()

    def _on_domain_removed(self, event: DomainRemoved) -> None:
        for device_id in event.device_ids:
            device_loop = self._loops.pop(device_id, None)
            if device_loop is not None:
                device_loop.stop()
