"""The alarm console's REST API and the site's MQTT alert topics, on a real hub: same actions, same state."""

import asyncio
import dataclasses
import json
import time
from pathlib import Path

from hub.alarms.model import Severity
from hub.alarms.service import AlarmChanged
from hub.alarms.settings import CardFormat, CardPoint, StatusCard
from hub.points import Device, Point, Sample
from tests.alarms.conftest import QUIET
from tests.conftest import WAIT_S, RunningHub, StartHub, make_config
from tests.http.helpers import ABSENT
from tests.http.openapi_check import documented_call
from tests.mqtt_api.json_schema import load, problems

SITE = "iot/global/acme/hq/alert-management/"


async def alarm_hub(start_hub: StartHub, tmp_path: Path, **changes: object) -> RunningHub:
    alarms = dataclasses.replace(QUIET, **changes)  # type: ignore[arg-type]
    return await start_hub(dataclasses.replace(make_config(tmp_path), alarms=alarms))


def raise_some(running: RunningHub) -> None:
    alarms = running.hub.alarms
    alarms.raise_flow_alarm("plant", "boiler", Severity.CRITICAL, "boiler lockout")
    alarms.raise_flow_alarm("plant", "filter", Severity.MINOR, "filter dirty")
    alarms.raise_flow_alarm("vav", "damper", Severity.MAJOR, "damper stuck")
    alarms.clear_flow_alarm("vav", "damper")


async def test_list_filter_sort_page_and_counts(start_hub: StartHub, tmp_path: Path) -> None:
    running = await alarm_hub(start_hub, tmp_path)
    raise_some(running)
    async with running.http() as http:
        async with http.get("/api/alarms") as response:
            body = await response.json()
        assert body["total"] == 3
        assert [a["id"] for a in body["alarms"]] == [
            "flow:plant:boiler",
            "flow:vav:damper",
            "flow:plant:filter",
        ]
        async with http.get(
            "/api/alarms?state=active_unacked&severity=minor,critical&sort=id&order=desc"
        ) as r:
            assert [a["id"] for a in (await r.json())["alarms"]] == ["flow:plant:filter", "flow:plant:boiler"]
        async with http.get("/api/alarms?subject=vav&limit=1&offset=0") as response:
            assert [a["state"] for a in (await response.json())["alarms"]] == ["cleared_unacked"]
        async with http.get("/api/alarms/counts") as response:
            counts = await response.json()
        assert counts["active"] == 2
        assert counts["unacknowledged"] == 3
        assert counts["active_by_severity"] == {"critical": 1, "major": 0, "minor": 1, "info": 0}
        for query, parameter in (("state=on", "state"), ("limit=0", "limit"), ("colour=red", "colour")):
            async with http.get(f"/api/alarms?{query}") as response:
                assert response.status == 400
                assert (await response.json())["error"].startswith(f"{parameter}: ")


async def test_acknowledge_shelve_resolve_and_history(start_hub: StartHub, tmp_path: Path) -> None:
    running = await alarm_hub(start_hub, tmp_path)
    raise_some(running)
    boiler = "/api/alarms/flow:plant:boiler"
    async with running.http() as http:
        async with http.post(boiler + "/acknowledge", json={"comment": "calling the service"}) as response:
            assert response.status == 200
            assert (await response.json())["acked_by"] == "admin"
        async with http.post(
            boiler + "/shelve", json={"duration": 3600, "reason": "service visit"}
        ) as response:
            shelved = await response.json()
        assert shelved["shelved"] is True
        assert shelved["shelve_reason"] == "service visit"
        async with http.get("/api/alarms/counts") as response:
            counts = await response.json()
        assert (counts["active"], counts["shelved"]) == (2, 1)
        assert counts["active_by_severity"] == {"critical": 0, "major": 0, "minor": 1, "info": 0}
        async with http.post(boiler + "/shelve", json={"duration": 60}) as response:
            assert response.status == 422
            assert (await response.json())["error"] == "reason: required"
        async with http.post(boiler + "/shelve", json={"until": "yesterday", "reason": "x"}) as response:
            assert response.status == 422
            assert (await response.json())["error"].startswith("until: expected an ISO 8601 time")
        async with http.post(boiler + "/unshelve") as response:
            assert (await response.json())["shelved"] is False
        async with http.post(boiler + "/resolve") as response:
            assert (await response.json())["state"] == "normal"
        async with http.post("/api/alarms/nope/acknowledge") as response:
            assert response.status == 404
        async with http.get(boiler) as response:
            alarm = await response.json()
    history = [(e["kind"], e["actor"]) for e in alarm["history"]]
    assert history == [
        ("raised", "system"),
        ("acknowledged", "admin"),
        ("shelved", "admin"),
        ("unshelved", "admin"),
        ("resolved", "admin"),
    ]
    assert alarm["history"][1]["message"] == "calling the service"


async def test_rest_and_mqtt_actions_give_the_same_state(start_hub: StartHub, tmp_path: Path) -> None:
    running = await alarm_hub(start_hub, tmp_path)
    alarms = running.hub.alarms
    for flow in ("rest", "mqtt"):
        alarms.raise_flow_alarm(flow, "a", Severity.MAJOR, "m")
        alarms.raise_flow_alarm(flow, "b", Severity.MAJOR, "m")
        alarms.clear_flow_alarm(flow, "b")
    changed: asyncio.Queue[AlarmChanged] = asyncio.Queue()
    running.hub.bus.subscribe(AlarmChanged, changed.put_nowait)
    prefix = running.hub.identity.topic_prefix
    async with running.http() as http, running.client() as client:
        await client.subscribe(prefix + "alarms/event", qos=1)
        for path in ("flow:rest:a/acknowledge", "flow:rest:b/acknowledge"):
            async with http.post(f"/api/alarms/{path}", json={}) as response:
                assert response.status == 200
        ack = {"alert_id": "flow:mqtt:a", "user": "admin", "command_id": "c-1"}
        await client.publish(SITE + "acknowledge", json.dumps(ack), qos=1)
        await client.publish(SITE + "acknowledge", json.dumps(ack), qos=1)  # resent: applied once
        await client.publish(SITE + "acknowledge", b'{"alert_id": "flow:mqtt:b", "user": "admin"}', qos=1)
        async with asyncio.timeout(WAIT_S):
            done = [(await changed.get()).alarm.id for _ in range(4)]
            published = []
            async for message in client.messages:
                published.append(json.loads(message.payload))  # type: ignore[arg-type]
                if len(published) == 4:
                    break
    assert sorted(done) == ["flow:mqtt:a", "flow:mqtt:b", "flow:rest:a", "flow:rest:b"]
    state = {a.id: (a.state, a.acked_by) for a in alarms.alarms()}
    assert state["flow:mqtt:a"] == state["flow:rest:a"] == ("active_acked", "admin")
    assert state["flow:mqtt:b"] == state["flow:rest:b"] == ("normal", "admin")
    assert [p["event"]["kind"] for p in published] == ["acknowledged"] * 4
    assert [problems(p, load("alarm-event.json")) for p in published] == [[]] * 4  # as docs/mqtt.md says
    history = await alarms.history("flow:mqtt:a")
    assert [e.kind for e in history] == ["raised", "acknowledged"]


async def test_events_filtered_and_paged(start_hub: StartHub, tmp_path: Path) -> None:
    running = await alarm_hub(start_hub, tmp_path)
    raise_some(running)
    await running.hub.alarms.stop()  # writes the queued events (the hub's own stop runs again at the end)
    async with running.http() as http:
        async with http.get("/api/events?kind=alarm&severity=critical,minor") as response:
            body = await response.json()
        assert body["total"] == 2
        assert [e["subject"] for e in body["events"]] == [
            "flow:plant:filter",
            "flow:plant:boiler",
        ]  # newest first
        async with http.get(f"/api/events?kind=alarm&limit=1&offset=3&since={time.time() - 60}") as response:
            body = await response.json()
        assert body["total"] == 4
        assert body["events"][0]["data"]["kind"] == "raised"
        async with http.get("/api/events?kind=alarm&until=2000-01-01T00:00:00Z") as response:
            assert (await response.json())["total"] == 0
        async with http.get("/api/events?since=soon") as response:
            assert response.status == 400
            assert (await response.json())["error"].startswith("since: expected an ISO 8601 time")


async def test_status_cards__fresh_stale_and_never_reported(start_hub: StartHub, tmp_path: Path) -> None:
    lines = (
        CardPoint("ext.peak", "Peak shaving", CardFormat.BOOLEAN),
        CardPoint("ext.mode", format=CardFormat.MULTISTATE, states={1: "Auto"}),
        CardPoint("ext.power", format=CardFormat.NUMERIC, decimals=0),
        CardPoint("ext.gone"),
    )
    cards = (StatusCard("ext", "External controller", lines),)
    running = await alarm_hub(start_hub, tmp_path, status_cards=cards)
    points = running.hub.points
    device = Device("ext", "External", "test", poll_interval=10.0)
    points.add_device(
        device,
        [
            Point("ext.peak", "ext", "peak"),
            Point("ext.mode", "ext", "mode"),
            Point("ext.power", "ext", "power", units="kW"),
        ],
    )
    now = time.time()
    points.update("ext.peak", Sample(True, now - 40))  # 40 s old: stale after 3 x 10 s
    points.update("ext.mode", Sample(1, now))
    async with running.http() as http, http.get("/api/status-cards") as response:
        (card,) = (await response.json())["cards"]
    by_point = {line["point"]: line for line in card["points"]}
    assert card["fresh"] is False
    assert (by_point["ext.peak"]["text"], by_point["ext.peak"]["freshness"]) == ("ON", "stale")
    assert by_point["ext.peak"]["age_s"] >= 40
    assert (by_point["ext.mode"]["label"], by_point["ext.mode"]["text"]) == ("mode", "Auto")
    assert by_point["ext.mode"]["freshness"] == "fresh"
    assert by_point["ext.power"]["text"] == "never reported"
    assert by_point["ext.power"]["value"] is None
    assert by_point["ext.power"]["updated_at"] is None
    assert by_point["ext.gone"]["freshness"] == "unknown_point"


async def test_every_answer_is_as_the_openapi_document_says(start_hub: StartHub, tmp_path: Path) -> None:
    cards = (
        StatusCard("ext", "External", (CardPoint("ext.peak", format=CardFormat.BOOLEAN), CardPoint("x.y"))),
    )
    running = await alarm_hub(start_hub, tmp_path, status_cards=cards)
    running.hub.points.add_device(Device("ext", "External", "test"), [Point("ext.peak", "ext", "peak")])
    running.hub.points.update("ext.peak", Sample(True, time.time()))
    raise_some(running)
    boiler = {"alarm_id": "flow:plant:boiler"}
    requests = (
        ("POST", "/api/alarms/{alarm_id}/acknowledge", {"comment": "on it"}, boiler),
        ("POST", "/api/alarms/{alarm_id}/shelve", {"reason": "visit", "until": time.time() + 60}, boiler),
        ("POST", "/api/alarms/{alarm_id}/unshelve", {}, boiler),
        ("POST", "/api/alarms/{alarm_id}/resolve", {}, boiler),
        ("POST", "/api/alarms/{alarm_id}/shelve", {"reason": "x"}, boiler),
        ("GET", "/api/alarms/{alarm_id}", ABSENT, boiler),
        ("GET", "/api/alarms/{alarm_id}", ABSENT, {"alarm_id": "nope"}),
        ("GET", "/api/alarms", ABSENT, {}),
        ("GET", "/api/alarms/counts", ABSENT, {}),
        ("GET", "/api/status-cards", ABSENT, {}),
    )
    statuses = [
        (await documented_call(running, m, route, body, **path))[0] for m, route, body, path in requests
    ]
    assert statuses == [200, 200, 200, 200, 422, 200, 404, 200, 200, 200]
    await running.hub.alarms.stop()  # writes the queued events (the hub's own stop runs again at the end)
    status, events = await documented_call(running, "GET", "/api/events", query="?kind=alarm&since=0")
    assert (status, events["total"]) == (200, 8)
