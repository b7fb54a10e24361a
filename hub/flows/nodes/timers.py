"""Timer nodes: delay, on-delay, off-delay, debounce, rate limit (all on the runtime's clock)."""

from collections.abc import Mapping
from typing import Any, ClassVar

import voluptuous as vol

from hub.flows.node import Category, Node, NodeRuntime, Port, PortType, Timer
from hub.flows.nodes.common import positive_duration

_VALUE_IN = (Port("value", PortType.ANY),)
_VALUE_OUT = (Port("value", PortType.ANY),)


def _timer_schema(key: str, what: str) -> vol.Schema:
    return vol.Schema({vol.Required(key, description=what): positive_duration})


class Delay(Node):
    TYPE = "delay"
    CATEGORY = Category.TIMER
    DESCRIPTION = (
        "Sends every value it receives again after `delay` (e.g. 30s), in order; values in flight are "
        "dropped when the flow stops. Use it to close a feedback loop or to wait for a process to react."
    )
    SCHEMA = _timer_schema("delay", "how long each value waits")
    INPUTS = _VALUE_IN
    OUTPUTS = _VALUE_OUT
    BREAKS_CYCLES = True

    def on_input(self, port: str, value: Any) -> None:
        self.runtime.call_later(self.params["delay"], lambda: self.runtime.emit("value", value))


class _EdgeDelay(Node):
    """A boolean whose change to DELAYED waits `delay` (cancelled if the input changes back).

    Only changes are sent, so a loop through it settles: its immediate path only ever repeats one value.
    """

    DELAYED: ClassVar[bool]
    SCHEMA = _timer_schema("delay", "how long the input must hold before the output follows")
    INPUTS = (Port("in", PortType.BOOLEAN),)
    OUTPUTS = (Port("out", PortType.BOOLEAN),)
    BREAKS_CYCLES = True

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._pending: Timer | None = None
        self._out: bool | None = None

    def on_input(self, port: str, value: Any) -> None:
        value = bool(value)
        if value is self.DELAYED:
            if self._pending is None and self._out is not value:
                self._pending = self.runtime.call_later(self.params["delay"], self._elapsed)
            return
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self._send(value)

    def _elapsed(self) -> None:
        self._pending = None
        self._send(self.DELAYED)

    def _send(self, value: bool) -> None:
        if value is not self._out:
            self._out = value
            self.runtime.emit("out", value)


class OnDelay(_EdgeDelay):
    TYPE = "on_delay"
    CATEGORY = Category.TIMER
    DESCRIPTION = (
        "Turns true only once its input has been true for `delay` without interruption, and false as "
        "soon as the input is false, e.g. a fan proof alarm that tolerates the fan's spin-up time. "
        "Sends only changes."
    )
    DELAYED = True


class OffDelay(_EdgeDelay):
    TYPE = "off_delay"
    CATEGORY = Category.TIMER
    DESCRIPTION = (
        "Turns true as soon as its input is true, and false only once the input has been false for "
        "`delay` without interruption, e.g. to run a pump on after its boiler stops. Sends only changes."
    )
    DELAYED = False


class Debounce(Node):
    TYPE = "debounce"
    CATEGORY = Category.TIMER
    DESCRIPTION = (
        "Sends the latest value once the input has been quiet for `wait`: each new value restarts the "
        "wait, so a bouncing contact or a burst of changes produces one value."
    )
    SCHEMA = _timer_schema("wait", "how long the input must be quiet")
    INPUTS = _VALUE_IN
    OUTPUTS = _VALUE_OUT
    BREAKS_CYCLES = True

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._pending: Timer | None = None
        self._value: Any = None

    def on_input(self, port: str, value: Any) -> None:
        self._value = value
        if self._pending is not None:
            self._pending.cancel()
        self._pending = self.runtime.call_later(self.params["wait"], self._quiet)

    def _quiet(self) -> None:
        self._pending = None
        self.runtime.emit("value", self._value)


class RateLimit(Node):
    TYPE = "rate_limit"
    CATEGORY = Category.TIMER
    DESCRIPTION = (
        "Sends at most one value per `interval`: a value arriving after a quiet interval passes at once; "
        "values arriving sooner are held and only the latest is sent when the interval ends, so the final "
        "value is never lost (e.g. to protect a device from too frequent writes)."
    )
    SCHEMA = _timer_schema("interval", "the shortest time between two values sent")
    INPUTS = _VALUE_IN
    OUTPUTS = _VALUE_OUT
    BREAKS_CYCLES = True

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._interval: float = params["interval"]
        self._closed = False  # an interval is running: hold values
        self._held = False
        self._value: Any = None

    def on_input(self, port: str, value: Any) -> None:
        if self._closed:
            self._value, self._held = value, True
            return
        self._send(value)

    def _send(self, value: Any) -> None:
        self._closed = True
        self.runtime.call_later(self._interval, self._reopen)
        self.runtime.emit("value", value)

    def _reopen(self) -> None:
        self._closed = False
        if self._held:
            self._held = False
            self._send(self._value)
