"""Logic nodes: comparisons, boolean gates, hysteresis, deadband, change detection, routing, latch."""

import operator
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

import voluptuous as vol

from hub.flows.node import Category, Node, NodeRuntime, Port, PortType
from hub.flows.nodes.common import Gate, distinct, gate_ports, number

BOOLEAN_OUT = (Port("out", PortType.BOOLEAN),)


class Operator(StrEnum):
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="


_OPERATORS: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.GT: operator.gt,
    Operator.GE: operator.ge,
    Operator.LT: operator.lt,
    Operator.LE: operator.le,
    Operator.EQ: operator.eq,
    Operator.NE: operator.ne,
}


class Compare(Node):
    TYPE = "compare"
    CATEGORY = Category.LOGIC
    DESCRIPTION = (
        "Compares input a with input b (or with the fixed `b` parameter until the b input receives a value) "
        "using `operator` (>, >=, <, <=, ==, !=) and sends true or false each time a or b changes. For a "
        "threshold that must not chatter around its limit, use hysteresis instead."
    )
    SCHEMA = vol.Schema(
        {
            vol.Required("operator", description="one of > >= < <= == !="): vol.Coerce(
                Operator, msg="expected one of > >= < <= == !="
            ),
            vol.Optional("b", description="the value compared with until input b has one"): number,
        }
    )
    INPUTS = (Port("a", PortType.NUMBER), Port("b", PortType.NUMBER))
    OUTPUTS = (Port("result", PortType.BOOLEAN),)

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._compare = _OPERATORS[params["operator"]]
        self._a: Any = None
        self._b: Any = params.get("b")

    def on_input(self, port: str, value: Any) -> None:
        if port == "a":
            self._a = value
        else:
            self._b = value
        if self._a is not None and self._b is not None:
            self.runtime.emit("result", self._compare(self._a, self._b))


class And(Gate):
    TYPE = "and"
    CATEGORY = Category.LOGIC
    DESCRIPTION = (
        "Sends true when all of its used inputs (in1..in4, `inputs` of them, default 2) are true, false "
        "otherwise; it starts sending once each used input has received a value."
    )
    INPUTS = gate_ports(PortType.BOOLEAN)
    OUTPUTS = BOOLEAN_OUT
    combine = all


class Or(Gate):
    TYPE = "or"
    CATEGORY = Category.LOGIC
    DESCRIPTION = (
        "Sends true when any of its used inputs (in1..in4, `inputs` of them, default 2) is true, false "
        "otherwise; it starts sending once each used input has received a value."
    )
    INPUTS = gate_ports(PortType.BOOLEAN)
    OUTPUTS = BOOLEAN_OUT
    combine = any


class Not(Node):
    TYPE = "not"
    CATEGORY = Category.LOGIC
    DESCRIPTION = "Sends the opposite of the boolean it receives: true for false, false for true."
    INPUTS = (Port("in", PortType.BOOLEAN),)
    OUTPUTS = BOOLEAN_OUT

    def on_input(self, port: str, value: Any) -> None:
        self.runtime.emit("out", not value)


class Hysteresis(Node):
    TYPE = "hysteresis"
    CATEGORY = Category.LOGIC
    DESCRIPTION = (
        "Turns a number into an on/off signal with two thresholds so it does not chatter. With on_at above "
        "off_at (e.g. 24 and 22: cooling) the output turns true at or above `on_at` and false at or below "
        "`off_at`; with on_at below off_at (e.g. 18 and 20: heating) it turns true at or below `on_at` and "
        "false at or above `off_at`. Between them it keeps its state (initially false). Sends only changes."
    )
    SCHEMA = vol.Schema(
        vol.All(
            {
                vol.Required("on_at", description="the threshold that turns the output on"): number,
                vol.Required("off_at", description="the threshold that turns it off"): number,
            },
            distinct("on_at", "off_at", " (their gap is the hysteresis)"),
        )
    )
    INPUTS = (Port("value", PortType.NUMBER),)
    OUTPUTS = BOOLEAN_OUT
    BREAKS_CYCLES = True

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._rising = params["on_at"] > params["off_at"]
        self._on: float = params["on_at"]
        self._off: float = params["off_at"]
        self._state: bool | None = None

    def on_input(self, port: str, value: Any) -> None:
        state = bool(self._state)
        if self._rising:
            state = value >= self._on or (state and value > self._off)
        else:
            state = value <= self._on or (state and value < self._off)
        if state is not self._state:
            self._state = state
            self.runtime.emit("out", state)


class Deadband(Node):
    TYPE = "deadband"
    CATEGORY = Category.LOGIC
    DESCRIPTION = (
        "Passes a number on only when it differs from the last value passed by at least `band`, so noise "
        "on a sensor does not cause a stream of writes. The first value always passes."
    )
    SCHEMA = vol.Schema(
        {vol.Required("band", description="the smallest change passed on"): vol.All(number, vol.Range(min=0))}
    )
    INPUTS = (Port("value", PortType.NUMBER),)
    OUTPUTS = (Port("value", PortType.NUMBER),)

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._band: float = params["band"]
        self._last: float | None = None

    def on_input(self, port: str, value: Any) -> None:
        if self._last is None or abs(value - self._last) >= self._band:
            self._last = value
            self.runtime.emit("value", value)


class Changed(Node):
    TYPE = "changed"
    CATEGORY = Category.LOGIC
    DESCRIPTION = (
        "Passes a value on only when it differs from the previous one it received, e.g. to act on a "
        "mode change and not on every poll. The first value always passes; `rising` sends true when a "
        "boolean turns true."
    )
    INPUTS = (Port("value", PortType.ANY),)
    OUTPUTS = (Port("value", PortType.ANY), Port("rising", PortType.BOOLEAN, "true when false turns true"))

    _UNSET = object()

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._last: Any = self._UNSET

    def on_input(self, port: str, value: Any) -> None:
        if value == self._last:
            return
        previous, self._last = self._last, value
        self.runtime.emit("value", value)
        if value is True and previous is False:
            self.runtime.emit("rising", True)


class Select(Node):
    TYPE = "select"
    CATEGORY = Category.LOGIC
    DESCRIPTION = (
        "Sends `when_true` or `when_false` depending on the boolean `condition`, e.g. the occupied or the "
        "unoccupied setpoint. It sends each time any input changes, once the condition and the chosen "
        "value are known."
    )
    INPUTS = (
        Port("condition", PortType.BOOLEAN),
        Port("when_true", PortType.ANY),
        Port("when_false", PortType.ANY),
    )
    OUTPUTS = (Port("value", PortType.ANY),)

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._inputs: dict[str, Any] = {}

    def on_input(self, port: str, value: Any) -> None:
        self._inputs[port] = value
        condition = self._inputs.get("condition")
        if condition is not None:
            chosen = self._inputs.get("when_true" if condition else "when_false")
            if chosen is not None:
                self.runtime.emit("value", chosen)


class Switch(Node):
    TYPE = "switch"
    CATEGORY = Category.LOGIC
    DESCRIPTION = (
        "Routes `value` out of `true` or `false` depending on the boolean `condition`, e.g. to send a "
        "command to the lead or the lag machine. The last value is routed again when the condition changes."
    )
    INPUTS = (Port("value", PortType.ANY), Port("condition", PortType.BOOLEAN))
    OUTPUTS = (Port("true", PortType.ANY), Port("false", PortType.ANY))

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._value: Any = None
        self._condition: Any = None

    def on_input(self, port: str, value: Any) -> None:
        if port == "value":
            self._value = value
        else:
            self._condition = value
        if self._value is not None and self._condition is not None:
            self.runtime.emit("true" if self._condition else "false", self._value)


class Latch(Node):
    TYPE = "latch"
    CATEGORY = Category.LOGIC
    DESCRIPTION = (
        "A set/reset memory: turns true when `set` is true and stays true until `reset` is true, e.g. to "
        "hold a trip until an operator resets it. When both are true, reset wins unless `reset_wins` is "
        "false. Sends only changes of its state (starting from false)."
    )
    SCHEMA = vol.Schema(
        {vol.Optional("reset_wins", default=True, description="reset has priority over set"): bool}
    )
    INPUTS = (Port("set", PortType.BOOLEAN), Port("reset", PortType.BOOLEAN))
    OUTPUTS = BOOLEAN_OUT
    BREAKS_CYCLES = True

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._reset_wins: bool = params["reset_wins"]
        self._set = self._reset = False
        self._state: bool | None = None

    def on_input(self, port: str, value: Any) -> None:
        if port == "set":
            self._set = bool(value)
        else:
            self._reset = bool(value)
        state = self._state
        if self._reset and (self._reset_wins or not self._set):
            state = False
        elif self._set:
            state = True
        if state is not self._state:
            self._state = state
            self.runtime.emit("out", state)
