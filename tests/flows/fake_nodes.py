"""Small node types for the engine's tests, independent of the node library (hub/flows/nodes)."""

from typing import Any

import voluptuous as vol

from hub.flows.node import Category, Node, NodeRegistry, Port, PortType, duration
from hub.points import Sample


class Watch(Node):
    TYPE = "watch"
    CATEGORY = Category.TRIGGER
    DESCRIPTION = "Emits each new value of a point."
    SCHEMA = vol.Schema({vol.Required("point"): str})
    OUTPUTS = (Port("value", PortType.NUMBER),)
    POINT_PARAMS = ("point",)

    def start(self) -> None:
        self.runtime.watch_point(self.params["point"], self._changed)

    def _changed(self, sample: Sample) -> None:
        self.runtime.emit("value", sample.value)


class Constant(Node):
    TYPE = "constant"
    CATEGORY = Category.INPUT
    DESCRIPTION = "Emits its value when the flow starts."
    SCHEMA = vol.Schema({vol.Required("value"): vol.Any(int, float)})
    OUTPUTS = (Port("value", PortType.NUMBER),)

    def start(self) -> None:
        self.runtime.emit("value", self.params["value"])


class Add(Node):
    TYPE = "add"
    CATEGORY = Category.MATH
    DESCRIPTION = "a + b (a missing one counts as 0)."
    INPUTS = (Port("a", PortType.NUMBER), Port("b", PortType.NUMBER))
    OUTPUTS = (Port("sum", PortType.NUMBER),)

    def __init__(self, params: Any, runtime: Any) -> None:
        super().__init__(params, runtime)
        self.values = {"a": 0.0, "b": 0.0}

    def on_input(self, port: str, value: Any) -> None:
        self.values[port] = value
        self.runtime.emit("sum", self.values["a"] + self.values["b"])


class Gain(Node):
    TYPE = "gain"
    CATEGORY = Category.MATH
    DESCRIPTION = "Multiplies by a factor."
    SCHEMA = vol.Schema({vol.Optional("factor", default=1.0): vol.Coerce(float)})
    INPUTS = (Port("in", PortType.NUMBER),)
    OUTPUTS = (Port("out", PortType.NUMBER),)

    def on_input(self, port: str, value: Any) -> None:
        self.runtime.emit("out", value * self.params["factor"])


class IsHigh(Node):
    TYPE = "is_high"
    CATEGORY = Category.LOGIC
    DESCRIPTION = "True above a threshold."
    SCHEMA = vol.Schema({vol.Required("above"): vol.Coerce(float)})
    INPUTS = (Port("in", PortType.NUMBER),)
    OUTPUTS = (Port("out", PortType.BOOLEAN),)

    def on_input(self, port: str, value: Any) -> None:
        self.runtime.emit("out", value > self.params["above"])


class Delay(Node):
    TYPE = "delay"
    CATEGORY = Category.TIMER
    DESCRIPTION = "Passes each value on after a delay."
    SCHEMA = vol.Schema({vol.Required("delay"): duration})
    INPUTS = (Port("in", PortType.ANY),)
    OUTPUTS = (Port("out", PortType.ANY),)
    BREAKS_CYCLES = True

    def on_input(self, port: str, value: Any) -> None:
        self.runtime.call_later(self.params["delay"], lambda: self.runtime.emit("out", value))


class Boom(Node):
    TYPE = "boom"
    CATEGORY = Category.LOGIC
    DESCRIPTION = "Raises on every value."
    INPUTS = (Port("in", PortType.ANY),)

    def on_input(self, port: str, value: Any) -> None:
        raise ZeroDivisionError("boom")


class Broken(Node):
    TYPE = "broken"
    CATEGORY = Category.LOGIC
    DESCRIPTION = "Cannot be built."

    def __init__(self, params: Any, runtime: Any) -> None:
        raise RuntimeError("cannot be built")


class Write(Node):
    TYPE = "write"
    CATEGORY = Category.OUTPUT
    DESCRIPTION = "Writes each value to a point; relinquishes when the flow stops."
    SCHEMA = vol.Schema({vol.Required("point"): str, vol.Optional("priority", default=8): int})
    INPUTS = (Port("in", PortType.ANY),)
    POINT_PARAMS = ("point",)
    WRITE_PARAMS = ("point",)

    def on_input(self, port: str, value: Any) -> None:
        self.runtime.write_point(self.params["point"], value, self.params["priority"])

    def stop(self) -> None:
        self.runtime.write_point(self.params["point"], None, self.params["priority"])


def fake_registry() -> NodeRegistry:
    registry = NodeRegistry()
    for node_type in (Watch, Constant, Add, Gain, IsHigh, Delay, Boom, Broken, Write):
        registry.register(node_type)
    return registry
