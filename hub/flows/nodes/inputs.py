"""Input nodes: a point's latest value, a flow parameter, a constant."""

from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub.flows.node import Category, Node, NodeRuntime, Port, PortType
from hub.flows.nodes.common import POINT_ID
from hub.points import Quality, Sample

TRIGGER = Port("trigger", PortType.ANY, "any value: emit again")
SAMPLE_OUTPUTS = (
    Port("value", PortType.ANY, "the value, when its quality is good"),
    Port("good", PortType.BOOLEAN, "whether the sample's quality is good"),
)
SCALAR = vol.Any(bool, int, float, str, msg="expected a number, a boolean or a string")


def emit_sample(runtime: NodeRuntime, sample: Sample) -> None:
    """Send a sample's quality, then its value if good: control logic must not act on a failed sensor."""
    good = sample.quality is Quality.GOOD and sample.value is not None
    runtime.emit("good", good)
    if good:
        runtime.emit("value", sample.value)


class PointRead(Node):
    TYPE = "point_read"
    CATEGORY = Category.INPUT
    DESCRIPTION = (
        "Reads a point's latest value each time its trigger input receives anything, e.g. on an interval or "
        "when another point changes. `good` tells whether the sample's quality is good; `value` is sent "
        "only then, so a failed sensor never drives control. Nothing is sent while the point has no sample."
    )
    SCHEMA = vol.Schema({vol.Required("point", description="the point to read"): POINT_ID})
    INPUTS = (TRIGGER,)
    OUTPUTS = SAMPLE_OUTPUTS
    POINT_PARAMS = ("point",)

    def on_input(self, port: str, value: Any) -> None:
        sample = self.runtime.read_point(self.params["point"])
        if sample is not None:
            emit_sample(self.runtime, sample)


class Parameter(Node):
    TYPE = "parameter"
    CATEGORY = Category.INPUT
    DESCRIPTION = (
        "Sends the value of one of the flow's parameters (its `parameters:` mapping, e.g. an occupied "
        "setpoint an operator may tune without editing the logic) when the flow starts and each time its "
        "trigger input receives anything. `default` is used when the flow does not set the parameter."
    )
    SCHEMA = vol.Schema(
        {
            vol.Required("name", description="the parameter's name"): vol.All(
                str, vol.Match(r"^[A-Za-z_][A-Za-z0-9_]*$", msg="expected a name such as occupied_setpoint")
            ),
            vol.Optional("default", description="the value when the flow does not set it"): SCALAR,
        }
    )
    INPUTS = (TRIGGER,)
    OUTPUTS = (Port("value", PortType.ANY, "the parameter's value"),)

    def start(self) -> None:
        self.runtime.call_later(0, self._send)

    def on_input(self, port: str, value: Any) -> None:
        self._send()

    def _send(self) -> None:
        value = self.runtime.parameter(self.params["name"])
        if value is None:
            value = self.params.get("default")
        if value is not None:
            self.runtime.emit("value", value)


class Constant(Node):
    TYPE = "constant"
    CATEGORY = Category.INPUT
    DESCRIPTION = (
        "Sends a fixed value (a number, a boolean or a string) when the flow starts and each time its "
        "trigger input receives anything: setpoints, limits and modes that belong to the logic itself."
    )
    SCHEMA = vol.Schema({vol.Required("value", description="the value to send"): SCALAR})
    INPUTS = (TRIGGER,)
    OUTPUTS = (Port("value", PortType.ANY, "the constant"),)

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._value = params["value"]

    def start(self) -> None:
        self.runtime.call_later(0, self._send)

    def on_input(self, port: str, value: Any) -> None:
        self._send()

    def _send(self) -> None:
        self.runtime.emit("value", self._value)
