"""Control nodes: a PID loop (anti-windup, output limits, bumpless auto/manual transfer) and a ramp."""

import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import voluptuous as vol

from hub.flows.node import Category, Node, NodeRuntime, Port, PortType
from hub.flows.nodes.common import number, positive_duration


class Action(StrEnum):
    """Reverse acting (heating): output rises as the process falls. Direct (cooling): it rises with it."""

    REVERSE = "reverse"
    DIRECT = "direct"


def _ordered_limits(params: dict[str, Any]) -> dict[str, Any]:
    if params["output_min"] >= params["output_max"]:
        raise vol.Invalid("output_min must be below output_max", path=["output_min"])
    return params


class Pid(Node):
    TYPE = "pid"
    CATEGORY = Category.CONTROL
    DESCRIPTION = (
        "A PID loop computed every `interval` (ISA form: gain `kp`, integral time `ti`, derivative time "
        "`td`, derivative on the process value so setpoint changes do not kick). `action: reverse` "
        "(heating, the default) raises the output when the process is below setpoint, `direct` (cooling) "
        "when above. The output stays within output_min..output_max and the integral never holds more than "
        "it takes to pin the output at a limit, so it leaves the limit as soon as the error turns "
        "(anti-windup). When `auto` is false the output follows "
        "`manual`, and the loop tracks it so returning to auto does not bump the output."
    )
    SCHEMA = vol.Schema(
        vol.All(
            {
                vol.Optional(
                    "kp", default=1.0, description="proportional gain, output units per unit"
                ): number,
                vol.Optional(
                    "ti", default=0.0, description="integral time in seconds (0: no integral)"
                ): vol.All(number, vol.Range(min=0, msg="ti cannot be negative")),
                vol.Optional("td", default=0.0, description="derivative time in seconds"): vol.All(
                    number, vol.Range(min=0, msg="td cannot be negative")
                ),
                vol.Optional(
                    "interval", default=10.0, description="how often the loop runs"
                ): positive_duration,
                vol.Optional("output_min", default=0.0, description="lowest output"): number,
                vol.Optional("output_max", default=100.0, description="highest output"): number,
                vol.Optional(
                    "action", default=Action.REVERSE, description="reverse (heating) or direct"
                ): vol.Coerce(Action, msg="expected reverse or direct"),
                vol.Optional("setpoint", description="the setpoint until the setpoint input has one"): number,
            },
            _ordered_limits,
        )
    )
    INPUTS = (
        Port("process", PortType.NUMBER, "the measured value"),
        Port("setpoint", PortType.NUMBER),
        Port("auto", PortType.BOOLEAN, "false: the output follows manual (default true)"),
        Port("manual", PortType.NUMBER, "the output while in manual"),
    )
    OUTPUTS = (Port("output", PortType.NUMBER),)
    BREAKS_CYCLES = True

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._kp: float = params["kp"]
        self._ti: float = params["ti"]
        self._td: float = params["td"]
        self._interval: float = params["interval"]
        self._low: float = params["output_min"]
        self._high: float = params["output_max"]
        self._sign = 1.0 if params["action"] is Action.REVERSE else -1.0
        self._setpoint: float | None = params.get("setpoint")
        self._process: float | None = None
        self._previous_process: float | None = None
        self._auto = True
        self._manual: float | None = None
        self._integral = 0.0
        self._output: float | None = None
        self._track = False  # the next auto step starts from the current output

    def start(self) -> None:
        self.runtime.call_later(self._interval, self._tick)

    def on_input(self, port: str, value: Any) -> None:
        if port == "process":
            self._process = value
        elif port == "setpoint":
            self._setpoint = value
        elif port == "auto":
            if value and not self._auto:
                self._track = True
            self._auto = bool(value)
            if not self._auto:
                self._send_manual()
        elif port == "manual":
            self._manual = value
            if not self._auto:
                self._send_manual()

    def _clamp(self, value: float) -> float:
        return min(max(value, self._low), self._high)

    def _send_manual(self) -> None:
        if self._manual is not None:
            self._output = self._clamp(self._manual)
            self.runtime.emit("output", self._output)

    def _tick(self) -> None:
        self.runtime.call_later(self._interval, self._tick)
        if self._process is None or self._setpoint is None:
            return
        if not self._auto:
            self._previous_process = self._process
            self._send_manual()
            return
        error = self._sign * (self._setpoint - self._process)
        proportional = self._kp * error
        derivative = 0.0
        if self._td and self._previous_process is not None:
            slope = (self._process - self._previous_process) / self._interval
            derivative = -self._sign * self._kp * self._td * slope
        self._previous_process = self._process
        if self._track and self._output is not None:
            self._integral = self._output - proportional - derivative  # bumpless: continue from the output
        self._track = False
        if self._ti:
            self._integral += self._kp * error * self._interval / self._ti
        # anti-windup: the integral never holds more than it takes to pin the output at a limit
        self._integral = min(
            max(self._integral, self._low - proportional - derivative), self._high - proportional - derivative
        )
        self._output = self._clamp(proportional + self._integral + derivative)
        self.runtime.emit("output", self._output)


class Ramp(Node):
    TYPE = "ramp"
    CATEGORY = Category.CONTROL
    DESCRIPTION = (
        "Moves its output towards the target at no more than `rate` units per minute, one step every "
        "`step` (default 1s), e.g. to bring a supply setpoint or a valve to a new position gently. The "
        "first target is sent at once; the output holds when the target is reached."
    )
    SCHEMA = vol.Schema(
        {
            vol.Required("rate", description="the largest change per minute"): vol.All(
                number, vol.Range(min=0, min_included=False, msg="rate must be greater than 0")
            ),
            vol.Optional("step", default=1.0, description="how often the output moves"): positive_duration,
        }
    )
    INPUTS = (Port("target", PortType.NUMBER),)
    OUTPUTS = (Port("value", PortType.NUMBER),)
    BREAKS_CYCLES = True

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._step_time: float = params["step"]
        self._step = params["rate"] / 60.0 * self._step_time
        self._target = 0.0
        self._value: float | None = None  # None until the first target
        self._moving = False

    def on_input(self, port: str, value: Any) -> None:
        self._target = value
        if self._value is None:
            self._value = value
            self.runtime.emit("value", value)
        elif not self._moving and value != self._value:
            self._moving = True
            self.runtime.call_later(self._step_time, self._advance)

    def _advance(self) -> None:
        current = self._value or 0.0
        gap = self._target - current
        close = abs(gap) <= self._step * (1 + 1e-9)  # float steps must not leave a sliver for one more step
        value = self._target if close else current + math.copysign(self._step, gap)
        self._value = value
        self.runtime.emit("value", value)
        self._moving = value != self._target
        if self._moving:
            self.runtime.call_later(self._step_time, self._advance)
