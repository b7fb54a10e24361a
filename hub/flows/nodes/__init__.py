"""The built-in node library: every core node type, and a registry holding them."""

from hub.flows.node import Node, NodeRegistry
from hub.flows.nodes.control import Pid, Ramp
from hub.flows.nodes.expression import ExpressionNode
from hub.flows.nodes.inputs import Constant, Parameter, PointRead
from hub.flows.nodes.logic import And, Changed, Compare, Deadband, Hysteresis, Latch, Not, Or, Select, Switch
from hub.flows.nodes.math import Average, Maximum, Minimum, Scale
from hub.flows.nodes.outputs import Alarm, Log, MqttPublish, PointWrite
from hub.flows.nodes.schedule import Schedule
from hub.flows.nodes.timers import Debounce, Delay, OffDelay, OnDelay, RateLimit
from hub.flows.nodes.triggers import Cron, Interval, PointChange, Startup

BUILTIN_NODE_TYPES: tuple[type[Node], ...] = (
    PointChange,
    Interval,
    Cron,
    Startup,
    PointRead,
    Parameter,
    Constant,
    Compare,
    And,
    Or,
    Not,
    Hysteresis,
    Deadband,
    Changed,
    Select,
    Switch,
    Latch,
    ExpressionNode,
    Minimum,
    Maximum,
    Average,
    Scale,
    Delay,
    OnDelay,
    OffDelay,
    Debounce,
    RateLimit,
    Pid,
    Ramp,
    Schedule,
    PointWrite,
    MqttPublish,
    Alarm,
    Log,
)


def builtin_registry() -> NodeRegistry:
    """A registry holding every built-in node type, owned by "core"."""
    registry = NodeRegistry()
    for node_type in BUILTIN_NODE_TYPES:
        registry.register(node_type)
    return registry
