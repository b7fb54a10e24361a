"""Trigger nodes: what starts a flow's evaluation (a point change, a clock, the flow starting)."""

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import voluptuous as vol

from hub.flows.node import Category, Node, NodeRuntime, Port, PortType
from hub.flows.nodes.common import POINT_ID, parsed_by, positive_duration, timezone
from hub.flows.nodes.cron import CronError, parse_cron
from hub.flows.nodes.inputs import SAMPLE_OUTPUTS, emit_sample
from hub.points import Sample

TICK = (Port("tick", PortType.NUMBER, "the firing time, UTC epoch seconds"),)


class PointChange(Node):
    TYPE = "point_change"
    CATEGORY = Category.TRIGGER
    DESCRIPTION = (
        "Starts the flow each time a point reports a new sample. `good` tells whether the sample's "
        "quality is good (wire it to an alarm for a failed sensor); `value` is sent only for good "
        "samples. With `initial` (the default) the point's current value is also sent when the flow starts."
    )
    SCHEMA = vol.Schema(
        {
            vol.Required("point", description="the point to watch"): POINT_ID,
            vol.Optional("initial", default=True, description="send the current value at start"): bool,
        }
    )
    OUTPUTS = SAMPLE_OUTPUTS
    POINT_PARAMS = ("point",)

    def start(self) -> None:
        self.runtime.watch_point(self.params["point"], self._sample)
        if self.params["initial"]:
            self.runtime.call_later(0, self._initial)

    def _initial(self) -> None:
        sample = self.runtime.read_point(self.params["point"])
        if sample is not None:
            emit_sample(self.runtime, sample)

    def _sample(self, sample: Sample) -> None:
        emit_sample(self.runtime, sample)


class Interval(Node):
    TYPE = "interval"
    CATEGORY = Category.TRIGGER
    DESCRIPTION = (
        "Fires every `every` (e.g. 30s, 5m) on a fixed grid from the flow's start, so ticks do not drift; "
        "with `initial` it also fires once when the flow starts. Sends the firing time."
    )
    SCHEMA = vol.Schema(
        {
            vol.Required("every", description="the period, e.g. 30s or 5m"): positive_duration,
            vol.Optional("initial", default=False, description="also fire when the flow starts"): bool,
        }
    )
    OUTPUTS = TICK

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._every: float = params["every"]
        self._next = 0.0

    def start(self) -> None:
        self._next = self.runtime.now()
        if self.params["initial"]:
            self.runtime.call_later(0, self._send)
        self._schedule()

    def _schedule(self) -> None:
        self._next += self._every
        self.runtime.call_at(self._next, self._fire)

    def _fire(self) -> None:
        self._schedule()
        self._send()

    def _send(self) -> None:
        self.runtime.emit("tick", self.runtime.now())


cron_parameter = parsed_by(parse_cron, CronError, "a cron expression such as '0 7 * * mon-fri'")


class Cron(Node):
    TYPE = "cron"
    CATEGORY = Category.TRIGGER
    DESCRIPTION = (
        "Fires on a cron schedule (`minute hour day-of-month month day-of-week`, e.g. `0 7 * * mon-fri`, "
        "or @hourly, @daily, @weekly, @monthly, @yearly) in the site's time zone, so a 07:00 job stays at "
        "07:00 local across DST changes. A local time skipped when clocks go forward does not fire; one "
        "repeated when they go back fires once. Sends the firing time."
    )
    SCHEMA = vol.Schema(
        {
            vol.Required("expression", description="five cron fields or a macro"): cron_parameter,
            vol.Optional("timezone", default="UTC", description="zoneinfo name of the site"): timezone,
        }
    )
    OUTPUTS = TICK

    def __init__(self, params: Mapping[str, Any], runtime: NodeRuntime) -> None:
        super().__init__(params, runtime)
        self._schedule_of = parse_cron(params["expression"])
        self._zone = ZoneInfo(params["timezone"])

    def start(self) -> None:
        self._schedule(self.runtime.now())

    def _schedule(self, after: float) -> None:
        self.runtime.call_at(self._schedule_of.next_after(after, self._zone), self._fire)

    def _fire(self) -> None:
        now = self.runtime.now()
        self._schedule(now)
        self.runtime.emit("tick", now)


class Startup(Node):
    TYPE = "startup"
    CATEGORY = Category.TRIGGER
    DESCRIPTION = (
        "Fires once when the flow starts (after every node has started), e.g. to set initial outputs or "
        "read points once after a deploy or a restart. Sends true."
    )
    OUTPUTS = (Port("started", PortType.BOOLEAN, "true, once"),)

    def start(self) -> None:
        self.runtime.call_later(0, self._fire)

    def _fire(self) -> None:
        self.runtime.emit("started", True)
