"""The whole hub with the bacnet integration from its config: polling, the one write path, discovery."""

import asyncio
import dataclasses
from pathlib import Path

from hub.points import PointUpdate
from tests.conftest import RunningHub, StartHub, finished, make_config
from tests.http.helpers import call
from tests.integrations.bacnet.conftest import WAIT_S, free_udp_port


async def test_hub__polls_writes_and_discovers(start_hub: StartHub, start_device, tmp_path: Path):
    device = await start_device(1601, "--analog-inputs", "2", "--analog-values", "1", "--binary-values", "0")
    settings = {
        "address": "127.0.0.1/32",
        "port": free_udp_port(),
        "timeout": 1,
        "poll_interval": 0.5,
        "devices": [{"instance": 1601, "address": device.address}],
    }
    config = dataclasses.replace(make_config(tmp_path), integrations={"bacnet": settings})
    polled = asyncio.Event()
    running: RunningHub = await start_hub(config)
    bus = running.hub.bus
    bus.subscribe(PointUpdate, lambda e: polled.set() if e.point.id == "1601.analogValue.1" else None)
    async with asyncio.timeout(WAIT_S):
        await polled.wait()
    _, latest = await call(running, "GET", "/api/data/latest?points=1601.analogValue.1")
    assert latest["values"] == {"1601.analogValue.1": 21.0}

    body = {"point_id": "1601.analogValue.1", "value": 55.0, "priority": 8}
    status, result = await call(running, "POST", "/api/points/write", body)
    assert status == 200, result
    assert (result["outcome"], result["verified"]) == ("written", True)
    status, array = await call(running, "GET", "/api/points/1601.analogValue.1/priority")
    assert status == 200, array
    assert array == {
        "point_id": "1601.analogValue.1",
        "slots": [{"priority": n, "value": 55.0 if n == 8 else None} for n in range(1, 17)],
        "relinquish_default": 21.0,
    }
    status, answer = await call(running, "GET", "/api/points/1601.analogInput.1/priority")
    assert (status, answer) == (409, {"error": "point '1601.analogInput.1' has no priority array"})
    status, answer = await call(running, "GET", "/api/points/1601.analogValue.9/priority")
    assert (status, answer) == (404, {"error": "unknown points: '1601.analogValue.9'"})

    status, result = await call(running, "POST", "/api/points/write", {**body, "value": 150.0})
    assert (result["outcome"], result["reason"]) == ("failed", "refused by the device: value-out-of-range")

    status, started = await call(
        running, "POST", "/api/devices/discover", {"integrations": ["bacnet"], "addresses": [device.address]}
    )
    assert status == 202, started
    await finished(running.hub.discovery, started["operation_id"])
    _, done = await call(running, "GET", f"/api/devices/discover/{started['operation_id']}")
    assert (done["state"], [d["id"] for d in done["devices"]]) == ("completed", ["1601"])
