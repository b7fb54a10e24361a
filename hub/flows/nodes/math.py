"""Math nodes: minimum, maximum and average of several inputs, linear scaling (formulas: expression.py)."""

import statistics
from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub.flows.node import Category, Node, NodeRuntime, Port, PortType
from hub.flows.nodes.common import Gate, distinct, gate_ports, number

NUMBER_OUT = (Port("out", PortType.NUMBER),)
_USES = "of its used inputs (in1..in4, `inputs` of them, default 2), once each has received a value"


class Minimum(Gate):
    TYPE = "min"
    CATEGORY = Category.MATH
    DESCRIPTION = f"Sends the smallest {_USES}, e.g. the coldest zone temperature."
    INPUTS = gate_ports(PortType.NUMBER)
    OUTPUTS = NUMBER_OUT
    combine = min


class Maximum(Gate):
    TYPE = "max"
    CATEGORY = Category.MATH
    DESCRIPTION = f"Sends the largest {_USES}, e.g. the most open VAV damper for a supply air reset."
    INPUTS = gate_ports(PortType.NUMBER)
    OUTPUTS = NUMBER_OUT
    combine = max


class Average(Gate):
    TYPE = "avg"
    CATEGORY = Category.MATH
    DESCRIPTION = f"Sends the mean {_USES}, e.g. the average of redundant sensors."
    INPUTS = gate_ports(PortType.NUMBER)
    OUTPUTS = NUMBER_OUT
    combine = statistics.fmean


class Scale(Node):
    TYPE = "scale"
    CATEGORY = Category.MATH
    DESCRIPTION = (
        "Maps a number linearly from [in_min, in_max] to [out_min, out_max], e.g. a 0-100 % demand to a "
        "16-12 °C supply setpoint (out_min may be above out_max). With `clamp` (the default) the result "
        "stays within the output range when the input leaves its range."
    )
    SCHEMA = vol.Schema(
        vol.All(
            {
                vol.Required("in_min", description="input value mapped to out_min"): number,
                vol.Required("in_max", description="input value mapped to out_max"): number,
                vol.Required("out_min", description="output at in_min"): number,
                vol.Required("out_max", description="output at in_max"): number,
                vol.Optional(
                    "clamp", default=True, description="keep the result within the output range"
                ): bool,
            },
            distinct("in_min", "in_max"),
        )
    )
    INPUTS = (Port("value", PortType.NUMBER),)
    OUTPUTS = (Port("value", PortType.NUMBER),)

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._in_min: float = params["in_min"]
        self._out_min: float = params["out_min"]
        self._gain = (params["out_max"] - params["out_min"]) / (params["in_max"] - params["in_min"])
        self._low = min(params["out_min"], params["out_max"])
        self._high = max(params["out_min"], params["out_max"])
        self._clamp: bool = params["clamp"]

    def on_input(self, port: str, value: Any) -> None:
        result = self._out_min + (value - self._in_min) * self._gain
        if self._clamp:
            result = min(max(result, self._low), self._high)
        self.runtime.emit("value", result)
