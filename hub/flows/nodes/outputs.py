"""Output nodes: point writes through the one write path, MQTT publishes, alarms, log lines."""

import json
import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import voluptuous as vol

from hub.flows.node import AlarmSeverity, Category, Node, NodeRuntime, Port, PortType
from hub.flows.nodes.common import POINT_ID, text

DEFAULT_PRIORITY = 10  # BACnet's free slot below operator overrides (8) and above default values (16)


class PointWrite(Node):
    TYPE = "point_write"
    CATEGORY = Category.OUTPUT
    DESCRIPTION = (
        "Writes each value it receives to a point through the hub's one write path (limits, rate limit, "
        "audit) at BACnet `priority` 1-16 (default 10, below an operator's manual 8). With `only_changes` "
        "(the default) a value equal to the last one written is not written again. When the flow stops "
        "the node relinquishes its priority (writes null) unless `relinquish_on_stop` is false."
    )
    SCHEMA = vol.Schema(
        {
            vol.Required("point", description="the writable point"): POINT_ID,
            vol.Optional("priority", default=DEFAULT_PRIORITY, description="BACnet priority 1-16"): vol.All(
                int, vol.Range(min=1, max=16, msg="priority must be 1 to 16")
            ),
            vol.Optional("only_changes", default=True, description="skip a value equal to the last"): bool,
            vol.Optional(
                "relinquish_on_stop", default=True, description="write null when the flow stops"
            ): bool,
        }
    )
    INPUTS = (Port("value", PortType.ANY, "the value to write (null relinquishes)"),)
    POINT_PARAMS = ("point",)
    WRITE_PARAMS = ("point",)

    _NOTHING = object()

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._point: str = params["point"]
        self._priority: int = params["priority"]
        self._only_changes: bool = params["only_changes"]
        self._last: Any = self._NOTHING

    def on_input(self, port: str, value: Any) -> None:
        if self._only_changes and value == self._last:
            return
        self._last = value
        self.runtime.write_point(self._point, value, self._priority)

    def stop(self) -> None:
        if self.params["relinquish_on_stop"] and self._last not in (self._NOTHING, None):
            self.runtime.write_point(self._point, None, self._priority)


def _topic(value: Any) -> str:
    topic = text("an MQTT topic")(value)
    if "+" in topic or "#" in topic or topic.startswith("$"):
        raise vol.Invalid(f"{topic!r}: a publish topic cannot contain + or # or start with $")
    return topic


class MqttPublish(Node):
    TYPE = "mqtt_publish"
    CATEGORY = Category.OUTPUT
    DESCRIPTION = (
        "Publishes each value it receives as JSON on an MQTT `topic` of the hub's broker, with `qos` 0-2 "
        "and `retain`, e.g. to tell a third-party system a plant's mode."
    )
    SCHEMA = vol.Schema(
        {
            vol.Required("topic", description="the topic, without wildcards"): _topic,
            vol.Optional("qos", default=0, description="0, 1 or 2"): vol.All(
                int, vol.In((0, 1, 2), msg="qos must be 0, 1 or 2")
            ),
            vol.Optional("retain", default=False, description="keep the last value on the broker"): bool,
        }
    )
    INPUTS = (Port("value", PortType.ANY),)

    def on_input(self, port: str, value: Any) -> None:
        self.runtime.publish(
            self.params["topic"], json.dumps(value), self.params["qos"], self.params["retain"]
        )


class Alarm(Node):
    TYPE = "alarm"
    CATEGORY = Category.OUTPUT
    DESCRIPTION = (
        "Raises the flow's alarm `alarm` (an id unique in the flow) with `severity` and `message` when its "
        "input turns true, and clears it when the input turns false, e.g. behind an on-delay that checks a "
        "fan's proof of running. Only changes act: a repeated true does not raise the alarm again."
    )
    SCHEMA = vol.Schema(
        {
            vol.Required("alarm", description="the alarm's id within the flow"): text("an alarm id"),
            vol.Optional(
                "severity", default=AlarmSeverity.MAJOR, description="critical, major, minor or info"
            ): vol.Coerce(AlarmSeverity, msg="expected critical, major, minor or info"),
            vol.Required("message", description="what the operator reads"): text("an alarm message"),
        }
    )
    INPUTS = (Port("active", PortType.BOOLEAN, "true raises, false clears"),)

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._active: bool | None = None  # unknown at start: the first false clears a stale alarm

    def on_input(self, port: str, value: Any) -> None:
        value = bool(value)
        if value is self._active:
            return
        self._active = value
        if value:
            self.runtime.raise_alarm(self.params["alarm"], self.params["severity"], self.params["message"])
        else:
            self.runtime.clear_alarm(self.params["alarm"])


class Level(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_LEVELS = {
    Level.DEBUG: logging.DEBUG,
    Level.INFO: logging.INFO,
    Level.WARNING: logging.WARNING,
    Level.ERROR: logging.ERROR,
}


class Log(Node):
    TYPE = "log"
    CATEGORY = Category.OUTPUT
    DESCRIPTION = (
        "Writes a line to the flow's execution log each time it receives a value: `message` with `{value}` "
        "replaced by the value, at `level` debug, info (the default), warning or error."
    )
    SCHEMA = vol.Schema(
        {
            vol.Optional("message", default="{value}", description="the line; {value} is the value"): text(
                "a message"
            ),
            vol.Optional(
                "level", default=Level.INFO, description="debug, info, warning or error"
            ): vol.Coerce(Level, msg="expected debug, info, warning or error"),
        }
    )
    INPUTS = (Port("value", PortType.ANY),)

    def on_input(self, port: str, value: Any) -> None:
        self.runtime.log(_LEVELS[self.params["level"]], self.params["message"].replace("{value}", str(value)))
