"""Pieces several node families share: parameter validators and the N-input gate."""

import zoneinfo
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import voluptuous as vol

from hub.flows.node import Node, NodeRuntime, Port, PortType, duration

MAX_GATE_INPUTS = 4


def number(value: Any) -> float:
    """A real number; booleans and numeric strings are refused so a typo cannot pass as 1 or 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise vol.Invalid(f"expected a number, got {value!r}")
    return float(value)


def positive_duration(value: Any) -> float:
    """A duration greater than zero (an interval of 0 would spin the flow)."""
    seconds = duration(value)
    if seconds <= 0:
        raise vol.Invalid("expected a duration greater than zero, such as 30s")
    return seconds


def timezone(value: Any) -> str:
    """A zoneinfo name: schedules run in the site's local time, across DST changes."""
    if not isinstance(value, str):
        raise vol.Invalid(f"expected a time zone name such as Europe/Paris, got {value!r}")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise vol.Invalid(f"unknown time zone {value!r}: expected a name such as Europe/Paris") from exc
    return value


def text(what: str) -> Callable[[Any], str]:
    """A non-empty string; `what` names it in the error."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise vol.Invalid(f"expected {what} (a non-empty string), got {value!r}")
        return value

    return check


POINT_ID = text("a point id such as ahu-1.supply_air_temp")


def parsed_by(parse: Callable[[str], object], error: type[Exception], example: str) -> Callable[[Any], str]:
    """Schema validator: a string `parse` accepts (parsed again, cached, when the node is built)."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise vol.Invalid(f"expected {example}, got {value!r}")
        try:
            parse(value)
        except error as exc:
            raise vol.Invalid(str(exc)) from exc
        return value

    return check


def distinct(first: str, second: str, why: str = "") -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Cross-check of two parameters that must differ (e.g. the ends of a range)."""

    def check(params: dict[str, Any]) -> dict[str, Any]:
        if params[first] == params[second]:
            raise vol.Invalid(f"{first} and {second} must differ{why}", path=[second])
        return params

    return check


def gate_ports(port_type: PortType) -> tuple[Port, ...]:
    """The inputs in1..in4 of an N-input gate."""
    return tuple(Port(f"in{i}", port_type) for i in range(1, MAX_GATE_INPUTS + 1))


class Gate(Node):
    """Combines the latest values of its first `inputs` inputs, once each has had a value."""

    SCHEMA = vol.Schema(
        {
            vol.Optional("inputs", default=2, description="how many of in1..in4 are used"): vol.All(
                int, vol.Range(min=2, max=MAX_GATE_INPUTS, msg=f"expected 2 to {MAX_GATE_INPUTS} inputs")
            )
        }
    )
    combine: ClassVar[Callable[[Sequence[Any]], Any]]

    def __init__(self, params: Any, runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        count = params["inputs"]
        self._values: list[Any] = [None] * count
        self._index = {f"in{i + 1}": i for i in range(count)}
        self._missing = count
        self._combine = type(self).combine

    def on_input(self, port: str, value: Any) -> None:
        index = self._index.get(port)
        if index is None or value is None:
            return
        if self._values[index] is None:
            self._missing -= 1
        self._values[index] = value
        if not self._missing:
            self.runtime.emit("out", self._combine(self._values))
