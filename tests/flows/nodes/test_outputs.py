"""Output nodes: point write (priority, relinquish), MQTT publish, alarm, log."""

import json
import logging

import pytest
import voluptuous as vol

from hub.flows.node import AlarmSeverity
from hub.flows.nodes.outputs import Alarm, Log, MqttPublish, PointWrite
from tests.flows.runtime import run


def test_point_write_at_priority_skips_repeats_and_relinquishes_on_stop():
    node, runtime = run(PointWrite, {"point": "ahu-1.supply_air_setpoint", "priority": 12})
    for value in (16.0, 16.0, 15.5):
        node.on_input("value", value)
    node.stop()
    assert runtime.writes == [
        ("ahu-1.supply_air_setpoint", 16.0, 12),
        ("ahu-1.supply_air_setpoint", 15.5, 12),
        ("ahu-1.supply_air_setpoint", None, 12),
    ]


def test_point_write_every_value_and_keep_on_stop():
    node, runtime = run(PointWrite, {"point": "p", "only_changes": False, "relinquish_on_stop": False})
    node.on_input("value", 1)
    node.on_input("value", 1)
    node.stop()
    assert runtime.writes == [("p", 1, 10), ("p", 1, 10)]


def test_point_write_that_never_wrote_does_not_relinquish():
    node, runtime = run(PointWrite, {"point": "p"})
    node.stop()
    assert runtime.writes == []


def test_mqtt_publish_sends_json():
    node, runtime = run(MqttPublish, {"topic": "site/plant/mode", "qos": 1, "retain": True})
    node.on_input("value", "occupied")
    node.on_input("value", 21.5)
    assert runtime.published == [
        ("site/plant/mode", json.dumps("occupied"), 1, True),
        ("site/plant/mode", "21.5", 1, True),
    ]


def test_alarm_raises_and_clears():
    node, runtime = run(Alarm, {"alarm": "fan_fail", "severity": "critical", "message": "Fan not proven"})
    node.on_input("active", False)  # clears an alarm left over from before a restart
    node.on_input("active", True)
    node.on_input("active", True)
    assert runtime.alarms == {"fan_fail": (AlarmSeverity.CRITICAL, "Fan not proven")}
    node.on_input("active", False)
    node.on_input("active", False)
    assert runtime.alarms == {}
    assert runtime.alarm_calls == [("clear", "fan_fail"), ("raise", "fan_fail"), ("clear", "fan_fail")]


def test_log_formats_the_value():
    node, runtime = run(Log, {"message": "supply reset to {value} °C", "level": "warning"})
    node.on_input("value", 14.5)
    plain, default = run(Log)
    plain.on_input("value", {"a": 1})
    assert runtime.logs == [(logging.WARNING, "supply reset to 14.5 °C")]
    assert default.logs == [(logging.INFO, "{'a': 1}")]


@pytest.mark.parametrize(
    ("node_type", "params", "message"),
    [
        (PointWrite, {}, "required key not provided"),
        (PointWrite, {"point": "p", "priority": 0}, "priority must be 1 to 16"),
        (PointWrite, {"point": "p", "priority": 17}, "priority must be 1 to 16"),
        (PointWrite, {"point": "p", "priority": "high"}, "expected int"),
        (MqttPublish, {"topic": "site/+/mode"}, "cannot contain"),
        (MqttPublish, {"topic": "$SYS/x"}, "start with"),
        (MqttPublish, {"topic": "a", "qos": 3}, "qos must be 0, 1 or 2"),
        (Alarm, {"alarm": "a"}, "required key not provided"),
        (
            Alarm,
            {"alarm": "a", "message": "m", "severity": "urgent"},
            "expected critical, major, minor or info",
        ),
        (Log, {"level": "trace"}, "expected debug, info, warning or error"),
        (Log, {"message": ""}, "expected a message"),
    ],
)
def test_outputs__invalid(node_type, params, message):
    with pytest.raises(vol.Invalid, match=message):
        node_type.SCHEMA(params)
