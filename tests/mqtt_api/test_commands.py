"""Command requests over a real broker connection: validation, one response each, duplicates run once."""

import asyncio
from pathlib import Path

import pytest

from hub.commands import AuditEvent, WriteSource
from hub.mqtt_api.requests import RequestRejected
from tests.conftest import RunningHub, StartHub
from tests.mqtt_api.helpers import PREFIX, inbox, simulator_config


@pytest.fixture
async def running(start_hub: StartHub, tmp_path: Path) -> RunningHub:
    return await start_hub(simulator_config(tmp_path))


@pytest.fixture
def rejected(running: RunningHub) -> list[RequestRejected]:
    events: list[RequestRejected] = []
    running.hub.bus.subscribe(RequestRejected, events.append)
    return events


@pytest.mark.parametrize(
    ("payload", "command_id", "error"),
    [
        (b"{not json", None, "payload is not valid JSON"),
        (b"[1, 2]", None, "payload must be a JSON object"),
        (
            b'{"point_id": "ahu-1.supply_air_setpoint", "value": 20}',
            None,
            "command_id: required field missing",
        ),
        (b'{"command_id": 7}', None, "command_id: expected str"),
        (b'{"command_id": "c-extra", "colour": "red"}', "c-extra", "colour: unknown field"),
        (
            b'{"command_id": "c-type", "point_id": "vav-1.zone_setpoint", "value": 20, "priority": "x"}',
            "c-type",
            "priority: expected an integer between 1 and 16",
        ),
        (b'{"command_id": "c-value", "point_id": "x", "value": [1]}', "c-value", "value: expected a number"),
    ],
)
async def test_malformed_request__error_response_and_activity_event(
    running: RunningHub, rejected: list[RequestRejected], payload: bytes, command_id: str | None, error: str
):
    command = "start_monitoring" if b"colour" in payload else "set_value_to_point"
    async with inbox(running) as box:
        await box.request(command, payload)
        response = await box.response(command, command_id)

    assert response["status"] == "error"
    assert error in response["error"]
    assert [(event.command_id, event.error) for event in rejected] == [(command_id, response["error"])]


async def test_unknown_command__error_response(running: RunningHub):
    async with inbox(running) as box:
        await box.request("self_destruct", {"command_id": "c-1"})
        response = await box.response("self_destruct", None)
    assert response["status"] == "error"
    assert "unknown command 'self_destruct'" in response["error"]


async def test_hub_survives_bad_requests_and_answers_the_next_one(running: RunningHub):
    async with inbox(running) as box:
        for payload in (b"", b"\xff\xfe", b"null", b'"text"', b"{}" * 1000):
            await box.request("reboot", payload)
        answered = await box.call("stop_monitoring", {"command_id": "after-garbage"})
        errors = [m for m in box.seen if m.topic.endswith("reboot/response")]
    assert answered["status"] == "success"
    assert len(errors) == 5


async def test_set_value_to_point__goes_through_the_one_write_path(running: RunningHub):
    audits: list[AuditEvent] = []
    running.hub.bus.subscribe(AuditEvent, audits.append)
    body = {"command_id": "w-1", "point_id": "ahu-1.supply_air_setpoint", "value": 21.5, "priority": 8}
    async with inbox(running) as box:
        response = await box.call("set_value_to_point", body)

    assert response["status"] == "success", response
    assert response["result"]["outcome"] == "written"
    assert response["result"]["value"] == 21.5
    assert [(a.actor, a.source, a.point_id) for a in audits] == [
        ("admin", WriteSource.MQTT, "ahu-1.supply_air_setpoint")
    ]


async def test_set_value_to_point__refusal_reason_in_the_response(running: RunningHub):
    async with inbox(running) as box:
        too_high = await box.call(
            "set_value_to_point", {"command_id": "w-2", "point_id": "ahu-1.supply_air_setpoint", "value": 99}
        )
        read_only = await box.call(
            "set_value_to_point", {"command_id": "w-3", "point_id": "vav-1.zone_temp", "value": 20}
        )
    assert (too_high["status"], too_high["result"]["refusal"]) == ("error", "bad_value")
    assert "above the maximum" in too_high["error"]
    assert (read_only["status"], read_only["result"]["refusal"]) == ("error", "not_writable")


async def test_duplicate_request__answered_once_and_run_once(running: RunningHub):
    audits: list[AuditEvent] = []
    running.hub.bus.subscribe(AuditEvent, audits.append)
    body = {"command_id": "dup-1", "point_id": "vav-2.zone_setpoint", "value": 22}
    async with inbox(running) as box:
        await box.request("set_value_to_point", body)
        await box.request("set_value_to_point", body)  # as a QoS 1 redelivery would
        first = await box.response("set_value_to_point", "dup-1")
        marker = await box.call("start_monitoring", {"command_id": "marker"})  # later than any 2nd answer
        answers = [m for m in box.seen if m.topic.endswith("set_value_to_point/response")]

    assert first["status"] == "success"
    assert marker["status"] == "success"
    assert len(answers) == 1
    assert len(audits) == 1
    assert running.hub.mqtt_api.commands.counters["duplicates"] == 1


async def test_stop_and_start_monitoring__toggle_polling_and_status(running: RunningHub):
    async with inbox(running) as box:
        stopped = await box.call("stop_monitoring", {"command_id": "m-1"})
        update = await box.next(lambda m: m.topic == PREFIX + "status/update" and not m.json()["monitoring"])
        assert running.hub.poller.paused
        started = await box.call("start_monitoring", {"command_id": "m-2"})
        again = await box.next(lambda m: m.topic == PREFIX + "status/update" and m.json()["monitoring"])

    assert (stopped["monitoring"], started["monitoring"]) == (False, True)
    assert update.retain is False  # live delivery; the retained copy is checked below
    assert again.json()["status"] == "online"
    assert not running.hub.poller.paused
    async with inbox(running, PREFIX + "status/update") as late:
        retained = await late.next(lambda m: True)
    assert retained.retain
    assert retained.json()["monitoring"] is True


async def test_reboot__answers_then_restarts_the_integrations(running: RunningHub):
    restarted = asyncio.Event()
    hub = running.hub
    original = hub.integrations.setup_all

    async def setup_all(*args, **kwargs):
        await original(*args, **kwargs)
        restarted.set()

    hub.integrations.setup_all = setup_all  # type: ignore[method-assign]
    async with inbox(running) as box:
        response = await box.call("reboot", {"command_id": "r-1"})
        assert response["status"] == "success"
        async with asyncio.timeout(5):
            await restarted.wait()
        # the hub still answers and its simulator is back
        write = await box.call(
            "set_value_to_point", {"command_id": "r-2", "point_id": "vav-3.zone_setpoint", "value": 21}
        )
    assert write["status"] == "success", write
    assert hub.integrations.get("simulator") is not None
