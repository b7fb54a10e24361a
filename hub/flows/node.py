"""The contract between the flow engine and its node types: ports, the node base class, the registry.

A node type is a class carrying its voluptuous parameter schema, typed input and output ports and a
one-paragraph description (shown in the designer palette), in the spirit of ESPHome's registries.
A node only computes: everything it does to the outside world (time, points, writes, MQTT, alarms,
logs) goes through the `NodeRuntime` the engine gives it, so the engine can trace, dry-run and replay
a flow, and tests can run it on a controlled clock.

Evaluation is synchronous: `on_input` handles one value and calls `runtime.emit` for its outputs;
the engine propagates emitted values in topological order. Side effects (`write_point`, `publish`)
are queued by the runtime, never awaited by the node.

`NodeRuntime.parameter` (added for the `parameter` node) reads a flow-level parameter: the engine
answers it from the flow's `parameters:` mapping (name -> value), None for a name it does not have.
"""

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Protocol

import voluptuous as vol

from hub.points import Sample, Value


class PortType(StrEnum):
    """What travels on an edge; ANY connects to everything."""

    ANY = "any"
    NUMBER = "number"
    BOOLEAN = "boolean"
    STRING = "string"

    def accepts(self, source: "PortType") -> bool:
        """Whether an output of type `source` may feed an input of this type."""
        return PortType.ANY in (self, source) or self is source


class Category(StrEnum):
    """Palette groups, in the order the designer shows them."""

    TRIGGER = "trigger"
    INPUT = "input"
    LOGIC = "logic"
    MATH = "math"
    TIMER = "timer"
    CONTROL = "control"
    OUTPUT = "output"


@dataclass(frozen=True)
class Port:
    """A named, typed input or output of a node type."""

    name: str
    type: PortType
    description: str = ""


class AlarmSeverity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    INFO = "info"


class Timer(Protocol):
    """A pending call_later/call_at callback."""

    def cancel(self) -> None:
        """Forget the callback if it has not run yet."""
        ...


class NodeRuntime(Protocol):
    """What a running node may use; the engine implements it per node (tests with a controlled clock)."""

    flow_id: str
    node_id: str

    def now(self) -> float:
        """UTC epoch seconds (controlled in tests and in replay)."""
        ...

    def parameter(self, name: str) -> Any:
        """The flow's parameter `name` (its YAML `parameters:` mapping), or None when the flow has none."""
        ...

    def emit(self, port: str, value: Any) -> None:
        """Send `value` out of output `port` to every connected input."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` after `delay` seconds of the runtime's clock; cancelled when the flow stops."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` at UTC epoch `when` (schedules, cron); cancelled when the flow stops."""
        ...

    def watch_point(self, point_id: str, callback: Callable[[Sample], None]) -> None:
        """Call `callback` with each new sample of a point until the flow stops."""
        ...

    def read_point(self, point_id: str) -> Sample | None:
        """The point's latest sample, or None when it has none yet."""
        ...

    def write_point(self, point_id: str, value: Value, priority: int) -> None:
        """Queue a write through the one write path (a None value relinquishes the priority)."""
        ...

    def publish(self, topic: str, payload: str, qos: int = 0, retain: bool = False) -> None:
        """Queue an MQTT publish on the hub's broker."""
        ...

    def raise_alarm(self, alarm_id: str, severity: AlarmSeverity, message: str) -> None:
        """Raise (or keep raised) the flow's alarm `alarm_id`."""
        ...

    def clear_alarm(self, alarm_id: str) -> None:
        """Clear the flow's alarm `alarm_id` if it is raised."""
        ...

    def log(self, level: int, message: str) -> None:
        """Log a line attributed to this flow and node (kept in the flow's execution log)."""
        ...


class Node:
    """Base class of node types. Subclasses set the class attributes and override what they need."""

    TYPE: ClassVar[str]  # the `type:` in YAML, snake_case
    CATEGORY: ClassVar[Category]
    DESCRIPTION: ClassVar[str]  # one paragraph for the palette
    SCHEMA: ClassVar[vol.Schema] = vol.Schema({})  # the node's parameters (YAML keys besides id/type)
    INPUTS: ClassVar[tuple[Port, ...]] = ()
    OUTPUTS: ClassVar[tuple[Port, ...]] = ()
    BREAKS_CYCLES: ClassVar[bool] = False  # a delay or state node may close a loop
    POINT_PARAMS: ClassVar[tuple[str, ...]] = ()  # parameters naming points (checked to exist)
    WRITE_PARAMS: ClassVar[tuple[str, ...]] = ()  # of those, the points the node writes (must be writable)

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        self.params = params  # already validated by SCHEMA
        self.runtime = runtime

    def start(self) -> None:
        """Called once when the flow starts: triggers subscribe and schedule here."""

    def stop(self) -> None:
        """Called once when the flow stops: outputs relinquish here (timers are cancelled by the engine)."""

    def on_input(self, port: str, value: Any) -> None:
        """Handle a value arriving on input `port`; emit results through the runtime."""

    @classmethod
    def input(cls, name: str) -> Port | None:
        return next((port for port in cls.INPUTS if port.name == name), None)

    @classmethod
    def output(cls, name: str) -> Port | None:
        return next((port for port in cls.OUTPUTS if port.name == name), None)


class NodeRegistry:
    """Node types by name, each tagged with its owner ("core" or an integration's domain)."""

    def __init__(self) -> None:
        self._types: dict[str, type[Node]] = {}
        self._owners: dict[str, str] = {}

    def register(self, node_type: type[Node], owner: str = "core") -> None:
        """Add a node type; a name already taken is a programming error."""
        name = node_type.TYPE
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ValueError(f"node type {name!r} must be snake_case")
        if name in self._types:
            raise ValueError(f"node type {name!r} is already registered by {self._owners[name]}")
        self._types[name] = node_type
        self._owners[name] = owner

    def unregister_owner(self, owner: str) -> None:
        """Remove every node type `owner` registered (an integration unloading)."""
        for name in [name for name, who in self._owners.items() if who == owner]:
            del self._types[name], self._owners[name]

    def get(self, name: str) -> type[Node] | None:
        return self._types.get(name)

    def owner(self, name: str) -> str:
        return self._owners[name]

    def __iter__(self) -> Iterator[type[Node]]:
        return iter(sorted(self._types.values(), key=lambda t: (list(Category).index(t.CATEGORY), t.TYPE)))

    def __len__(self) -> int:
        return len(self._types)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def duration(value: Any) -> float:
    """Seconds from a number or a string such as "500ms", "30s", "5m", "1h", "2d"."""
    if isinstance(value, bool):
        raise vol.Invalid("expected a duration such as 30s, 5m or 1h")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise vol.Invalid(f"expected a duration such as 30s, 5m or 1h, got {value!r}")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 0:
        raise vol.Invalid("a duration cannot be negative")
    return seconds
