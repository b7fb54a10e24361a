"""The service on real parts: history across restarts, duplicate external events, MQTT transitions."""

import pytest

from hub.alarms.model import Severity
from hub.alarms.service import UnknownAlarm
from hub.alarms.settings import LimitRule
from hub.mqtt_api.alerts import AlertAction, AlertVerb
from tests.alarms.conftest import T0, StartSite

HIGH = "limit:ahu-1.temp:high"


async def test_projection_rebuilt_after_restart_equals_the_live_one(site: StartSite) -> None:
    s = await site(limits=(LimitRule("ahu-1.temp", high=30.0, delay=10.0),))
    s.sample("ahu-1.temp", 35.0)
    s.advance(10)
    s.alarms.acknowledge(HIGH, "ann", "looking")
    s.alarms.raise_flow_alarm("f1", "x", Severity.INFO, "one")
    s.alarms.shelve("flow:f1:x", T0 + 3600, "known issue", "bob")
    s.alarms.raise_flow_alarm("f2", "y", Severity.MINOR, "two")
    s.alarms.clear_flow_alarm("f2", "y")
    s.alarms.resolve("flow:f2:y", "ann")
    live = {a.id: a for a in s.alarms.alarms()}
    restarted = await s.restart()
    assert {a.id: a for a in restarted.alarms()} == live
    assert len(live) == 3


async def test_a_restarted_service_keeps_judging_its_sources(site: StartSite) -> None:
    s = await site(limits=(LimitRule("ahu-1.temp", high=30.0),))
    s.sample("ahu-1.temp", 35.0)
    await s.restart()
    s.sample("ahu-1.temp", 25.0, after=1)
    assert s.states() == {HIGH: "cleared_unacked"}


async def test_history_says_who_when_and_what(site: StartSite) -> None:
    s = await site(limits=(LimitRule("ahu-1.temp", high=30.0),))
    s.sample("ahu-1.temp", 35.0)
    s.alarms.acknowledge(HIGH, "ann", "on it")
    s.sample("ahu-1.temp", 20.0, after=60)
    await s.restart()  # half of the history from the database, then more from memory
    s.sample("ahu-1.temp", 36.0, after=60)
    history = await s.alarms.history(HIGH)
    assert [(e.kind, e.actor, e.timestamp, e.value) for e in history] == [
        ("raised", "system", T0, 35.0),
        ("acknowledged", "ann", T0, None),
        ("cleared", "system", T0 + 60, 20.0),
        ("raised", "system", T0 + 120, 36.0),
    ]
    assert history[1].message == "on it"


async def test_resent_mqtt_action_is_applied_once_even_after_restart(site: StartSite) -> None:
    s = await site()
    s.alarms.raise_flow_alarm("f", "a", Severity.MAJOR, "m")
    ack = AlertAction(AlertVerb.ACKNOWLEDGE, "flow:f:a", "ops", None, "cmd-7")
    s.bus.publish(ack)
    s.alarms.clear_flow_alarm("f", "a")
    s.alarms.raise_flow_alarm("f", "a", Severity.MAJOR, "m")
    await s.restart()
    s.bus.publish(ack)  # the same command again (a retained message or a retry): not a new acknowledgement
    assert s.states() == {"flow:f:a": "active_unacked"}
    s.bus.publish(AlertAction(AlertVerb.ACKNOWLEDGE, "flow:f:a", None, None, "cmd-8"))
    assert s.states() == {"flow:f:a": "active_acked"}
    alarm = s.alarms.get("flow:f:a")
    assert alarm is not None
    assert alarm.acked_by == "mqtt"


async def test_every_transition_is_published_on_mqtt(site: StartSite) -> None:
    s = await site()
    s.alarms.raise_flow_alarm("f", "a", Severity.CRITICAL, "pump failed")
    s.alarms.acknowledge("flow:f:a", "ann")
    s.alarms.shelve("flow:f:a", T0 + 60, "repair", "ann")
    s.alarms.clear_flow_alarm("f", "a")
    assert [p["event"]["kind"] for p in s.published] == ["raised", "acknowledged", "shelved", "cleared"]
    last = s.published[-1]["alarm"]
    assert last["state"] == "normal"
    assert last["severity"] == "critical"
    assert last["shelved"] is True
    assert last["message"] == "pump failed"


async def test_acting_on_an_unknown_alarm(site: StartSite) -> None:
    s = await site()
    with pytest.raises(UnknownAlarm):
        s.alarms.acknowledge("nope", "ann")
    s.bus.publish(AlertAction(AlertVerb.RESOLVE, "nope", None, None, None))  # logged, nothing else
    assert s.states() == {}


async def test_event_retention_keeps_the_history_of_open_and_shelved_alarms(site: StartSite) -> None:
    """Wired as in hub/core.py: the store purges expired alarm events only of closed alarms."""
    s = await site()
    s.store.purger.protect("alarm", s.alarms.needs_history)
    s.alarms.raise_flow_alarm("f", "open", Severity.MAJOR, "still active")
    for name in ("closed", "shelved"):
        s.alarms.raise_flow_alarm("f", name, Severity.MINOR, "over")
        s.alarms.clear_flow_alarm("f", name)
        s.alarms.resolve(f"flow:f:{name}", "ann")
    s.alarms.shelve("flow:f:shelved", T0 + 100 * 86400, "seasonal", "ann")
    await s.restart()  # every event in the database

    s.clock.now += 40 * 86400  # all of them past the 30-day retention
    assert await s.store.flush()
    restarted = await s.restart()

    assert {a.id: str(a.state) for a in restarted.alarms()} == {
        "flow:f:open": "active_unacked",
        "flow:f:shelved": "normal",
    }
    assert [e.kind for e in await restarted.history("flow:f:open")] == ["raised"]
    assert await restarted.history("flow:f:closed") == []
