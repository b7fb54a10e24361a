"""A NodeRuntime for running nodes in isolation on a manual clock.

This is a real, complete implementation of the `NodeRuntime` contract (not a mock of anything
external) on the engine's own manual clock: time only moves when a test advances it, timers fire in
order, point samples, writes, publishes, alarms and log lines are kept in lists for the test to
read, and outputs can be wired to other nodes' inputs or to plain callables (a zone model).
"""

from collections.abc import Callable, Mapping
from typing import Any

from hub.flows.clock import ManualClock as EngineClock
from hub.flows.node import AlarmSeverity, Node, Timer
from hub.points import Quality, Sample, Value

START = 1_798_761_600.0  # 2027-01-01T00:00:00Z, a Friday


class ManualClock(EngineClock):
    """The engine's manual clock, starting at START unless told otherwise."""

    def __init__(self, start: float = START) -> None:
        super().__init__(start)


class ManualRuntime:
    """One node's runtime: records everything the node does to the outside world."""

    def __init__(
        self,
        clock: ManualClock,
        points: dict[str, Sample] | None = None,
        parameters: Mapping[str, Any] | None = None,
        node_id: str = "node",
    ) -> None:
        self.flow_id = "test-flow"
        self.node_id = node_id
        self.clock = clock
        self.points = points if points is not None else {}
        self.parameters = dict(parameters or {})
        self.emitted: list[tuple[str, Any]] = []
        self.timeline: list[tuple[float, str, Any]] = []  # (seconds since START, port, value)
        self.writes: list[tuple[str, Value, int]] = []
        self.published: list[tuple[str, str, int, bool]] = []
        self.alarms: dict[str, tuple[AlarmSeverity, str]] = {}
        self.alarm_calls: list[tuple[str, str]] = []  # ("raise" or "clear", alarm id), in order
        self.logs: list[tuple[int, str]] = []
        self._watchers: dict[str, list[Callable[[Sample], None]]] = {}
        self._wires: dict[str, list[Callable[[Any], None]]] = {}

    # -- NodeRuntime -------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def parameter(self, name: str) -> Any:
        return self.parameters.get(name)

    def emit(self, port: str, value: Any) -> None:
        self.emitted.append((port, value))
        self.timeline.append((self.clock.now() - START, port, value))
        for receiver in self._wires.get(port, ()):
            receiver(value)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self.clock.call_at(self.clock.now() + delay, callback)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        return self.clock.call_at(when, callback)

    def watch_point(self, point_id: str, callback: Callable[[Sample], None]) -> None:
        self._watchers.setdefault(point_id, []).append(callback)

    def read_point(self, point_id: str) -> Sample | None:
        return self.points.get(point_id)

    def write_point(self, point_id: str, value: Value, priority: int) -> None:
        self.writes.append((point_id, value, priority))

    def publish(self, topic: str, payload: str, qos: int = 0, retain: bool = False) -> None:
        self.published.append((topic, payload, qos, retain))

    def raise_alarm(self, alarm_id: str, severity: AlarmSeverity, message: str) -> None:
        self.alarms[alarm_id] = (severity, message)
        self.alarm_calls.append(("raise", alarm_id))

    def clear_alarm(self, alarm_id: str) -> None:
        self.alarms.pop(alarm_id, None)
        self.alarm_calls.append(("clear", alarm_id))

    def log(self, level: int, message: str) -> None:
        self.logs.append((level, message))

    # -- for tests ---------------------------------------------------------------------------

    def set_point(self, point_id: str, value: Value, quality: Quality = Quality.GOOD) -> None:
        """A new sample of a point: stored, then handed to every watcher."""
        sample = Sample(value, self.clock.now(), quality)
        self.points[point_id] = sample
        for callback in self._watchers.get(point_id, ()):
            callback(sample)

    def wire(self, port: str, receiver: Callable[[Any], None]) -> None:
        """Send what `port` emits to `receiver` (another node's input, a model, ...)."""
        self._wires.setdefault(port, []).append(receiver)

    def values(self, port: str) -> list[Any]:
        return [value for emitted_port, value in self.emitted if emitted_port == port]


def make(
    node_type: type[Node], params: Mapping[str, Any], runtime: ManualRuntime, start: bool = True
) -> Node:
    """Validate `params` with the type's schema, build the node and (by default) start it."""
    node = node_type(node_type.SCHEMA(dict(params)), runtime)
    if start:
        node.start()
    return node


def run(
    node_type: type[Node],
    params: Mapping[str, Any] | None = None,
    clock: ManualClock | None = None,
    **runtime: Any,
) -> tuple[Node, ManualRuntime]:
    """A started node with a fresh runtime on `clock` (a new one at START by default)."""
    node_runtime = ManualRuntime(clock or ManualClock(), **runtime)
    return make(node_type, params or {}, node_runtime), node_runtime
