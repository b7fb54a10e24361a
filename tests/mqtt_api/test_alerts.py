"""Site-level alert actions over a real broker connection: accepted and logged, bad ones refused."""

import asyncio
import json
from pathlib import Path

from hub.mqtt_api.alerts import AlertAction, AlertVerb
from hub.mqtt_api.requests import RequestRejected
from tests.conftest import WAIT_S, StartHub
from tests.mqtt_api.helpers import simulator_config

SITE = "iot/global/acme/hq/alert-management/"


async def test_acknowledge_and_resolve__accepted_and_bad_ones_refused(start_hub: StartHub, tmp_path: Path):
    running = await start_hub(simulator_config(tmp_path))
    events: asyncio.Queue[object] = asyncio.Queue()
    running.hub.bus.subscribe(AlertAction, events.put_nowait)
    running.hub.bus.subscribe(RequestRejected, events.put_nowait)
    async with running.client(user="admin") as client:
        ack = {"alert_id": "a-1", "user": "olga", "comment": "on it", "command_id": "c-1"}
        await client.publish(SITE + "acknowledge", json.dumps(ack), qos=1)
        await client.publish(SITE + "resolve", b'{"alert_id": "a-1"}', qos=1)
        await client.publish(
            SITE + "resolve", b'{"alert_id": "a-2", "colour": "red", "command_id": "c-3"}', qos=1
        )
        await client.publish(SITE + "snooze", b'{"alert_id": "a-3"}', qos=1)
        await client.publish(SITE + "resolve", b"not json", qos=1)
        async with asyncio.timeout(WAIT_S):
            seen = [await events.get() for _ in range(5)]

    assert seen[:2] == [
        AlertAction(AlertVerb.ACKNOWLEDGE, "a-1", "olga", "on it", "c-1"),
        AlertAction(AlertVerb.RESOLVE, "a-1", None, None, None),
    ]
    rejected = seen[2:]
    assert all(isinstance(event, RequestRejected) for event in rejected)
    assert [event.command_id for event in rejected] == ["c-3", None, None]  # type: ignore[attr-defined]
    assert "colour" in rejected[0].error  # type: ignore[attr-defined]
    assert "unknown alert action 'snooze'" in rejected[1].error  # type: ignore[attr-defined]
