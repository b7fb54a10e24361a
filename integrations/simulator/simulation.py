"""The whole simulated site, free of wall time: advance it, read it, write it, replay the scenario's steps.

The integration maps wall time to simulated time and calls in here; `python -m integrations.simulator`
drives it headless. Both therefore see the same sequence of states for the same scenario and seed.
"""

import logging
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Protocol

from hub.integration import DeviceError, DiscoveredDevice, PrioritySlots, WriteError
from hub.points import Point, Quality, Sample, Value

from .durations import format_duration
from .equipment import site_devices
from .history import DEFAULT_SIZE, History
from .priority import checked_write
from .scaleout import ScaleOut, ScaleOutSpec
from .scenario import (
    FailPoint,
    RestoreDevice,
    RestorePoint,
    Scenario,
    SetInput,
    SlowDown,
    Step,
    TakeOffline,
    WritePoint,
)
from .site import STEP_S, SiteModel

_LOGGER = logging.getLogger(__name__)


class _PointSource(Protocol):
    def value(self, point_id: str) -> Value: ...


class Simulation:
    """The site model, the generated devices, the faults the scenario injected, and the history of reads."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int = 0,
        *,
        poll_interval: float = 5.0,
        scale_out: ScaleOutSpec | None = None,
        history_size: int = DEFAULT_SIZE,
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.model = SiteModel(scenario.site, seed)
        site = site_devices(scenario.site, poll_interval)
        self._scale_out = ScaleOut(scale_out, seed, poll_interval) if scale_out and scale_out.count else None
        generated = self._scale_out.devices if self._scale_out is not None else ()
        clash = sorted({d.device.id for d in site} & {d.device.id for d in generated})
        if clash:
            raise ValueError(f"the scenario uses ids of generated devices: {', '.join(clash)}")
        self.devices: tuple[DiscoveredDevice, ...] = (*site, *generated)
        self.points: Mapping[str, Point] = {p.id: p for found in self.devices for p in found.points}
        self._sources: dict[str, _PointSource] = {found.device.id: self.model for found in site}
        if self._scale_out is not None:
            self._sources.update((found.device.id, self._scale_out) for found in generated)
        self.history = History(history_size)
        self.failed: dict[str, str] = {}  # point id -> why it reads bad
        self.offline: dict[str, str] = {}  # device id -> why it does not answer
        self.slow: dict[str, float] = {}  # device id -> seconds of wall time each answer takes
        self._pending: deque[Step] = deque(scenario.steps)
        if self._apply_steps_due_by(0):
            self.model.take_readings()  # the first readings show what a step at 0 changed

    @property
    def time(self) -> int:
        """Seconds of simulated time since the scenario started."""
        return self.model.time

    @property
    def pending_steps(self) -> int:
        """Scenario steps still to come."""
        return len(self._pending)

    def advance_to(self, sim_time: float) -> None:
        """Step the site up to `sim_time` (never back), applying each scenario step when its time comes."""
        model = self.model
        while model.time + STEP_S <= sim_time:
            self._apply_steps_due_by(model.time + STEP_S)  # a step at t acts on the state read at t
            model.step()
        if self._scale_out is not None:
            self._scale_out.time = model.time

    def read(self, points: Sequence[Point], timestamp: float) -> dict[str, Sample]:
        """Samples of one device's points now, each recorded in the history; DeviceError if it is offline."""
        if not points:
            return {}
        device_id = points[0].device_id
        time = self.model.time
        record = self.history.record
        source = self._sources.get(device_id)
        offline = self.offline.get(device_id) if source is not None else f"no simulated device {device_id!r}"
        if offline is not None:
            bad = Sample(None, timestamp, Quality.BAD, offline)
            for point in points:
                record(point.id, time, bad)
            raise DeviceError(offline)
        value = source.value  # type: ignore[union-attr]
        failed = self.failed
        samples = {}
        for point in points:
            reason = failed.get(point.id) if failed else None
            if reason is None:
                sample = Sample(value(point.id), timestamp)
            else:
                sample = Sample(None, timestamp, Quality.BAD, reason)
            samples[point.id] = sample
            record(point.id, time, sample)
        return samples

    def write(self, point: Point, value: Value, priority: int) -> None:
        """Command `point` at `priority` (None relinquishes); WriteError: refused; DeviceError: offline."""
        offline = self.offline.get(point.device_id)
        if offline is not None:
            raise DeviceError(offline)
        own = self.points.get(point.id)
        if own is None:
            raise WriteError(f"no simulated point {point.id!r}")
        checked = checked_write(own, value, priority)  # refuses read-only points: only site commands get here
        self.model.arrays[own.id].command(priority, checked)

    def priority_array(self, point_id: str) -> PrioritySlots | None:
        """A commanded point's slots and relinquish default (None: it has none); DeviceError: offline."""
        own = self.points.get(point_id)
        offline = self.offline.get(own.device_id) if own is not None else None
        if offline is not None:
            raise DeviceError(offline)
        array = self.model.arrays.get(point_id)
        return PrioritySlots(array.slots(), array.relinquish_default) if array is not None else None

    def _apply_steps_due_by(self, time: int) -> bool:
        """Apply the scenario steps due at or before `time`; whether there were any."""
        pending = self._pending
        applied = bool(pending) and pending[0].at <= time
        while pending and pending[0].at <= time:
            self._apply(pending.popleft())
        return applied

    def _apply(self, step: Step) -> None:
        when = f"scenario step at {format_duration(step.at)}"
        match step:
            case SetInput():
                self.model.set_input(step.input, step.value, step.device_id)
            case FailPoint():
                self.failed[step.point_id] = f"sensor failed ({when})"
            case RestorePoint():
                self.failed.pop(step.point_id, None)
            case TakeOffline():
                self.offline[step.device_id] = f"{step.device_id} does not answer ({when})"
            case SlowDown():
                self.slow[step.device_id] = step.delay
            case RestoreDevice():
                self.offline.pop(step.device_id, None)
                self.slow.pop(step.device_id, None)
            case WritePoint():
                self.model.arrays[step.point_id].command(step.priority, step.value)
        _LOGGER.debug("%s: %s", when, step)
