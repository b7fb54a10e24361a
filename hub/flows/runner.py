"""One running flow: its nodes, event-driven propagation in topological order, its timers and writes.

A run starts with one event (a point sample, a timer, the flow starting) and ends when no value is
left to deliver. Values wait in a heap ordered by the receiving node's topological rank, so a node
fed by two branches handles both before anything downstream of it. A node that raises marks the flow
errored: it is stopped (its outputs relinquish) and the others are untouched.
"""

import asyncio
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hub.commands import WriteRequest, WriteSource
from hub.flows.model import FlowSpec
from hub.flows.node import AlarmSeverity, Node, Timer
from hub.flows.traces import NodeStep, RunTrace, TraceBuffer
from hub.flows.validate import params_of, topological_order
from hub.points import Sample, Value

if TYPE_CHECKING:
    from hub.flows.engine import EngineContext

_LOGGER = logging.getLogger(__name__)
MAX_DELIVERIES = 100_000  # in one run: more means values chase each other around a loop
WRITE_HISTORY = 50  # writes kept per flow for the state API and dry run (bounded: 200 flows on a Pi)


class FlowState(StrEnum):
    STOPPED = "stopped"
    RUNNING = "running"
    ERRORED = "errored"


@dataclass(frozen=True, slots=True)  # slots: a site holds 50 per flow, 10,000 at 200 flows
class WriteRecord:
    """A write the flow asked for: when (its clock), what, and what the write path said (or dry_run)."""

    at: float
    point_id: str
    value: Value
    priority: int
    outcome: str
    reason: str | None = None

    def json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "point_id": self.point_id,
            "value": self.value,
            "priority": self.priority,
            "outcome": self.outcome,
            "reason": self.reason,
        }


class FlowError(Exception):
    """A run that cannot finish (a node raised, or values looped without end)."""


class NodeContext:
    """The NodeRuntime of one node: everything it does outside itself goes through the runner."""

    __slots__ = ("_index", "_runner", "_wires", "flow_id", "node_id")

    def __init__(
        self, runner: "FlowRunner", index: int, node_id: str, wires: dict[str, list[tuple[int, str]]]
    ) -> None:
        self._runner = runner
        self._index = index
        self._wires = wires
        self.flow_id = runner.spec.id
        self.node_id = node_id

    def now(self) -> float:
        return self._runner.ctx.clock.now()

    def parameter(self, name: str) -> Any:
        return self._runner.spec.parameters.get(name)

    def emit(self, port: str, value: Any) -> None:
        runner = self._runner  # the hot path: inlined rather than a call into the runner
        if runner.tracing:
            runner.outputs.append((port, value))
        targets = self._wires.get(port)
        if targets:
            queue, seq = runner.queue, runner.seq
            for target, target_port in targets:
                heapq.heappush(queue, (target, next(seq), target_port, value))

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self.call_at(self.now() + delay, callback)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        return self._runner.schedule(when, self.node_id, callback)

    def watch_point(self, point_id: str, callback: Callable[[Sample], None]) -> None:
        self._runner.watch(point_id, self.node_id, callback)

    def read_point(self, point_id: str) -> Sample | None:
        return self._runner.ctx.read_point(point_id)

    def write_point(self, point_id: str, value: Value, priority: int) -> None:
        self._runner.queue_write(point_id, value, priority)

    def publish(self, topic: str, payload: str, qos: int = 0, retain: bool = False) -> None:
        self._runner.publish(self.node_id, topic, payload, qos, retain)

    def raise_alarm(self, alarm_id: str, severity: AlarmSeverity, message: str) -> None:
        self._runner.alarm(self.node_id, alarm_id, severity, message, raised=True)

    def clear_alarm(self, alarm_id: str) -> None:
        self._runner.alarm(self.node_id, alarm_id, AlarmSeverity.INFO, "", raised=False)

    def log(self, level: int, message: str) -> None:
        self._runner.ctx.logs.add(self.now(), self.flow_id, self.node_id, level, message)


class _FlowTimer:
    """A node's timer; forgotten by the runner once it ran or was cancelled."""

    __slots__ = ("handle", "runner")

    def __init__(self, runner: "FlowRunner") -> None:
        self.runner = runner
        self.handle: Timer | None = None

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
        self.runner.timers.discard(self)


class FlowRunner:
    """Builds a flow's nodes from its spec and runs them; `dry_run` records writes instead of sending them."""

    def __init__(
        self,
        spec: FlowSpec,
        ctx: "EngineContext",
        trace_depth: int,
        dry_run: bool = False,
        write_history: int = WRITE_HISTORY,
    ) -> None:
        self.spec = spec
        self.ctx = ctx
        self.dry_run = dry_run
        self.state = FlowState.STOPPED
        self.error: str | None = None
        self.traces = TraceBuffer(trace_depth)
        self.writes: deque[WriteRecord] = deque(maxlen=write_history)
        self.runs = 0
        self.timers: set[_FlowTimer] = set()
        self._unwatch: list[Callable[[], None]] = []
        order, _ = topological_order(spec.nodes, spec.edges, ctx.registry)
        rank = {node_id: position for position, node_id in enumerate(order)}
        by_id = {node.id: node for node in spec.nodes}
        self.node_ids = order
        wires: list[dict[str, list[tuple[int, str]]]] = [{} for _ in order]  # per node: port -> targets
        for edge in spec.edges:
            wires[rank[edge.source]].setdefault(edge.source_port, []).append(
                (rank[edge.target], edge.target_port)
            )
        self.nodes: list[Node] = []
        for index, node_id in enumerate(order):
            node_spec = by_id[node_id]
            node_type = ctx.registry.get(node_spec.type)
            assert node_type is not None, "validated before it runs"
            try:
                params = params_of(node_spec, node_type)
                self.nodes.append(node_type(params, NodeContext(self, index, node_id, wires[index])))
            except Exception as err:  # a defect in the node type: this flow cannot run, the others do
                self.error = f"node {node_id} could not be created: {err!r}"
                break
        self.queue: list[tuple[int, int, str, Any]] = []
        self.seq = itertools.count()
        self._in_run = False
        self._deferred: deque[tuple[str, Callable[[], None]]] = deque()
        self._steps: list[NodeStep] | None = None
        self.tracing = False  # a run is being traced: emits record their outputs
        self.outputs: list[tuple[str, Any]] = []
        self._pending: dict[tuple[str, int], tuple[Value, float]] = {}
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start every node in topological order (triggers subscribe, constants emit)."""
        if self.error is not None:  # a node could not be created
            self._fail(self.error)
            return
        self.state = FlowState.RUNNING
        if self.ctx.write is not None and not self.dry_run:
            self._writer = asyncio.get_running_loop().create_task(
                self._send_writes(), name=f"flow:{self.spec.id}"
            )
        self.run("start", self._start_nodes)

    def _start_nodes(self) -> None:
        for node_id, node in zip(self.node_ids, self.nodes, strict=True):
            self._step(node_id, "start", None, node.start)

    async def stop(self) -> None:
        """Stop the nodes (outputs relinquish), cancel timers and watches, send the writes still queued."""
        if self.state == FlowState.RUNNING:
            self._halt()
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None

    def _halt(self) -> None:
        """Stop nodes and callbacks; the state becomes STOPPED unless a run failed."""
        self.state = FlowState.STOPPED
        for unwatch in self._unwatch:
            unwatch()
        self._unwatch.clear()
        for timer in list(self.timers):
            timer.cancel()
        for node_id, node in zip(self.node_ids, self.nodes, strict=False):  # fewer if one failed to build
            try:
                node.stop()
            except Exception as err:
                self.ctx.logs.add(
                    self.ctx.clock.now(), self.spec.id, node_id, logging.ERROR, f"stop failed: {err!r}"
                )

    async def flush(self) -> None:
        """Wait until every queued write has been through the write path."""
        if self._pending and self._writer is not None and not self._writer.done():
            await self._drained.wait()

    # -- runs ---------------------------------------------------------------------------------

    def run(self, trigger: str, action: Callable[[], None]) -> None:
        """Run `action` (a node's callback, through `_step`), then propagate until nothing is left."""
        if self.state != FlowState.RUNNING:
            return
        if self._in_run:  # e.g. a write read back while a run is going: after this one
            self._deferred.append((trigger, action))
            return
        self._in_run = True
        try:
            self._one_run(trigger, action)
            while self._deferred and self.state == FlowState.RUNNING:
                self._one_run(*self._deferred.popleft())
        finally:
            self._in_run = False
            self._deferred.clear()

    def _one_run(self, trigger: str, action: Callable[[], None]) -> None:
        started, began = self.ctx.clock.now(), time.perf_counter()
        self.runs += 1
        self.tracing = self.traces.depth > 0
        self._steps = [] if self.tracing else None
        error = None
        try:
            action()
            self._propagate()
        except FlowError as err:
            error = str(err)
        finally:
            self.queue.clear()
        self.tracing = False
        duration = time.perf_counter() - began
        self.ctx.totals.add(duration, error is not None)
        if self._steps is not None:
            steps, self._steps = tuple(self._steps), None
            self.traces.add(RunTrace(self.runs, started, trigger, steps, duration, error))
        if error is not None:
            self._fail(error)

    def _propagate(self) -> None:
        """Deliver queued values, lowest topological rank first (the hot path: kept flat)."""
        queue, nodes, node_ids, steps, clock = (
            self.queue,
            self.nodes,
            self.node_ids,
            self._steps,
            time.perf_counter,
        )
        deliveries = 0
        while queue:
            index, _, port, value = heapq.heappop(queue)
            deliveries += 1
            if deliveries > MAX_DELIVERIES:
                raise FlowError(f"more than {MAX_DELIVERIES} values in one run: values loop between nodes")
            try:
                if steps is None:
                    nodes[index].on_input(port, value)
                    continue
                self.outputs = outputs = []
                began = clock()
                try:
                    nodes[index].on_input(port, value)
                finally:
                    steps.append(NodeStep(node_ids[index], port, value, tuple(outputs), clock() - began))
            except Exception as err:
                raise FlowError(f"node {node_ids[index]} raised {err!r} on {port}={value!r}") from err

    def _step(self, node_id: str, port: str, value: Any, action: Callable[[], None]) -> None:
        """Run a trigger's callback (a point sample, a timer, start), tracing it."""
        self.outputs = outputs = []
        began = time.perf_counter()
        try:
            action()
        except Exception as err:
            raise FlowError(f"node {node_id} raised {err!r} on {port}={value!r}") from err
        finally:
            if self._steps is not None:
                self._steps.append(
                    NodeStep(node_id, port, value, tuple(outputs), time.perf_counter() - began)
                )

    def _fail(self, error: str) -> None:
        self.ctx.logs.add(self.ctx.clock.now(), self.spec.id, None, logging.ERROR, error)
        self._halt()
        self.state, self.error = FlowState.ERRORED, error
        self.ctx.errored(self.spec.id, error)

    # -- what nodes ask for -------------------------------------------------------------------

    def schedule(self, when: float, node_id: str, callback: Callable[[], None]) -> Timer:
        timer = _FlowTimer(self)

        def fire() -> None:
            self.timers.discard(timer)
            self.run(f"timer {node_id}", lambda: self._step(node_id, "timer", None, callback))

        timer.handle = self.ctx.clock.call_at(when, fire)
        self.timers.add(timer)
        return timer

    def watch(self, point_id: str, node_id: str, callback: Callable[[Sample], None]) -> None:
        def changed(sample: Sample) -> None:
            self.run(
                f"point {point_id}",
                lambda: self._step(node_id, "point", sample.value, lambda: callback(sample)),
            )

        self._unwatch.append(self.ctx.watchers.add(point_id, changed))

    def queue_write(self, point_id: str, value: Value, priority: int) -> None:
        now = self.ctx.clock.now()
        if self.dry_run or self.ctx.write is None:
            self.writes.append(WriteRecord(now, point_id, value, priority, "dry_run"))
            return
        self._pending.pop((point_id, priority), None)  # the newest value goes last, replacing an older one
        self._pending[(point_id, priority)] = (value, now)
        self._drained.clear()
        self._wake.set()

    async def _send_writes(self) -> None:
        """Send queued writes one by one through the one write path (actor `flow:<id>`)."""
        assert self.ctx.write is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                key, (value, at) = next(iter(self._pending.items()))
                request = WriteRequest(key[0], value, key[1], f"flow:{self.spec.id}", WriteSource.FLOW)
                try:
                    result = await self.ctx.write(request)
                    record = WriteRecord(at, key[0], value, key[1], str(result.outcome), result.reason)
                except Exception as err:  # the write path audits and answers; this is a defect in it
                    _LOGGER.exception("flow %s: write of %s raised", self.spec.id, key[0])
                    record = WriteRecord(at, key[0], value, key[1], "failed", repr(err))
                if self._pending.get(key, (None, None))[1] == at:  # not replaced by a newer value meanwhile
                    del self._pending[key]
                self.writes.append(record)
            self._drained.set()

    def publish(self, node_id: str, topic: str, payload: str, qos: int, retain: bool) -> None:
        if self.dry_run or self.ctx.publish is None:
            self.ctx.logs.add(
                self.ctx.clock.now(), self.spec.id, node_id, logging.INFO, f"dry run: publish {topic}"
            )
            return
        self.ctx.publish(topic, payload.encode(), qos, retain)

    def alarm(self, node_id: str, alarm_id: str, severity: AlarmSeverity, message: str, raised: bool) -> None:
        if self.dry_run:
            what = f"raise {alarm_id} ({severity}): {message}" if raised else f"clear {alarm_id}"
            self.ctx.logs.add(
                self.ctx.clock.now(), self.spec.id, node_id, logging.INFO, f"dry run: alarm {what}"
            )
            return
        self.ctx.alarm(self.spec.id, node_id, alarm_id, severity, message, raised)
