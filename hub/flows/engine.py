"""The flow engine: the running flows, what they share (clock, points, write path, log) and their events.

Flows are isolated: each has its own runner, and one that fails is stopped and reported (a
`FlowErrored` event on the bus, which raises the flow's error alarm) while the others keep running;
`FlowRecovered` follows when it runs again. Flows' alarm nodes raise and clear alarms in hub.alarms.
"""

import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.alarms.model import FlowErrored, FlowRecovered
from hub.bus import Bus
from hub.commands import WriteRequest, WriteResult
from hub.flows.clock import Clock
from hub.flows.model import FlowSpec
from hub.flows.node import AlarmSeverity, NodeRegistry
from hub.flows.runner import FlowRunner, FlowState
from hub.points import PointUpdate, Sample

_LOGGER = logging.getLogger(__name__)
LOG_LINES = 1000  # execution log lines kept, all flows together
Publish = Callable[[str, bytes, int, bool], None]  # topic, payload, qos, retain


class AlarmSink(Protocol):
    """Where flows' alarm nodes raise and clear alarms (hub.alarms.AlarmService)."""

    def raise_flow_alarm(
        self, flow_id: str, alarm_id: str, severity: AlarmSeverity, message: str
    ) -> None: ...

    def clear_flow_alarm(self, flow_id: str, alarm_id: str) -> None: ...


@dataclass(frozen=True)
class LogEntry:
    """One line of the execution log."""

    timestamp: float
    flow_id: str
    node_id: str | None
    level: int
    message: str

    def json(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp,
            "flow_id": self.flow_id,
            "node_id": self.node_id,
            "level": logging.getLevelName(self.level).lower(),
            "message": self.message,
        }


class FlowLog:
    """The execution log: the newest lines of every flow, also sent to Python logging."""

    def __init__(self, size: int = LOG_LINES) -> None:
        self._lines: deque[LogEntry] = deque(maxlen=size)

    def add(self, timestamp: float, flow_id: str, node_id: str | None, level: int, message: str) -> None:
        self._lines.append(LogEntry(timestamp, flow_id, node_id, level, message))
        _LOGGER.log(level, "flow %s%s: %s", flow_id, f" node {node_id}" if node_id else "", message)

    def lines(self, flow_id: str | None = None, limit: int = 200) -> list[LogEntry]:
        """The newest `limit` lines (of one flow), oldest first."""
        found = [line for line in self._lines if flow_id is None or line.flow_id == flow_id]
        return found[-limit:] if limit else []


class PointWatchers:
    """Point samples to the flows watching them: one bus subscription for the whole engine."""

    def __init__(self) -> None:
        self._by_point: dict[str, list[Callable[[Sample], None]]] = {}

    def add(self, point_id: str, callback: Callable[[Sample], None]) -> Callable[[], None]:
        """Call `callback` with each sample of `point_id`; returns the function that stops it."""
        callbacks = self._by_point.setdefault(point_id, [])
        callbacks.append(callback)

        def remove() -> None:
            callbacks.remove(callback)
            if not callbacks:
                self._by_point.pop(point_id, None)

        return remove

    def deliver(self, point_id: str, sample: Sample) -> None:
        for callback in tuple(self._by_point.get(point_id, ())):
            callback(sample)

    def on_update(self, update: PointUpdate) -> None:
        """The bus handler (live); replay calls `deliver` itself."""
        if update.point.id in self._by_point:
            self.deliver(update.point.id, update.sample)


@dataclass
class RunTotals:
    """Every run of every flow since start, for /metrics (kept here so a redeploy does not reset them)."""

    runs: int = 0
    errors: int = 0
    seconds: float = 0.0

    def add(self, duration: float, failed: bool) -> None:
        self.runs += 1
        self.errors += failed
        self.seconds += duration


@dataclass
class EngineContext:
    """What running flows share; replay and dry runs give their own (a manual clock, recorded points)."""

    registry: NodeRegistry
    clock: Clock
    bus: Bus
    read_point: Callable[[str], Sample | None]
    write: Callable[[WriteRequest], Awaitable[WriteResult]] | None  # None: writes are only recorded
    publish: Publish | None
    alarms: AlarmSink | None = None  # None: alarms are only logged (dry runs, replay, tests)
    watchers: PointWatchers = field(default_factory=PointWatchers)
    logs: FlowLog = field(default_factory=FlowLog)
    totals: RunTotals = field(default_factory=RunTotals)

    def errored(self, flow_id: str, error: str) -> None:
        self.bus.publish(FlowErrored(flow_id, error))

    def alarm(
        self, flow_id: str, node_id: str, alarm_id: str, severity: AlarmSeverity, message: str, raised: bool
    ) -> None:
        if self.alarms is None:
            what = f"raise {alarm_id} ({severity}): {message}" if raised else f"clear {alarm_id}"
            self.logs.add(self.clock.now(), flow_id, node_id, logging.INFO, f"alarm {what}")
        elif raised:
            self.alarms.raise_flow_alarm(flow_id, alarm_id, severity, message)
        else:
            self.alarms.clear_flow_alarm(flow_id, alarm_id)


class FlowEngine:
    """Starts, stops and restarts flows by id; each runs in its own runner."""

    def __init__(self, ctx: EngineContext, trace_depth: int = 10) -> None:
        self.ctx = ctx
        self.trace_depth = trace_depth
        self._runners: dict[str, FlowRunner] = {}

    def __iter__(self) -> Iterator[FlowRunner]:
        return iter(self._runners.values())

    def get(self, flow_id: str) -> FlowRunner | None:
        return self._runners.get(flow_id)

    def start(self, spec: FlowSpec, dry_run: bool = False) -> FlowRunner:
        """Build and start a flow (a validated one); a failure while starting marks it errored."""
        runner = FlowRunner(spec, self.ctx, self.trace_depth, dry_run)
        self._runners[spec.id] = runner
        runner.start()
        return runner

    async def stop(self, flow_id: str) -> None:
        """Stop a flow, keeping its runner (traces, writes, state) for the API."""
        runner = self._runners.get(flow_id)
        if runner is not None:
            await runner.stop()

    async def remove(self, flow_id: str) -> None:
        """Stop a flow and forget it; a failed one is no longer failing (`FlowRecovered` clears its alarm)."""
        runner = self._runners.pop(flow_id, None)
        if runner is not None:
            await runner.stop()
            if runner.state == FlowState.ERRORED:
                self.ctx.bus.publish(FlowRecovered(flow_id))

    async def stop_all(self) -> None:
        for flow_id in list(self._runners):
            await self.stop(flow_id)

    def counts(self) -> dict[str, int]:
        found = {str(state): 0 for state in FlowState}
        for runner in self._runners.values():
            found[str(runner.state)] += 1
        return found
