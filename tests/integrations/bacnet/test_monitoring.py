"""Adding a discovered BACnet device to monitoring over REST: polled at once, kept over restarts, removed.

A real simulated device in its own process on loopback, the whole hub around the integration.
"""

import asyncio
import dataclasses
from pathlib import Path

from hub.config import HubConfig
from hub.points import PointUpdate
from tests.conftest import RunningHub, StartHub, finished, make_config
from tests.http.helpers import call
from tests.integrations.bacnet.conftest import WAIT_S, SimulatedDevice, free_udp_port

CHOSEN = ["1701.analogInput.1", "1701.analogValue.1"]


def bacnet_config(tmp_path: Path, **settings: object) -> HubConfig:
    raw = {"address": "127.0.0.1/32", "port": free_udp_port(), "timeout": 1, "poll_interval": 0.5, **settings}
    return dataclasses.replace(make_config(tmp_path), integrations={"bacnet": raw})


async def polled(running: RunningHub, point_id: str) -> PointUpdate:
    """The first polled sample of `point_id` (it may already be in the registry)."""
    updates: asyncio.Queue[PointUpdate] = asyncio.Queue()
    unsubscribe = running.hub.bus.subscribe(
        PointUpdate, lambda e: updates.put_nowait(e) if e.point.id == point_id else None
    )
    try:
        async with asyncio.timeout(WAIT_S):
            return await updates.get()
    finally:
        unsubscribe()


async def html(running: RunningHub, user: str, path: str) -> str:
    async with running.http(user) as http, http.get(path) as page:
        assert page.status == 200, path
        return await page.text()


async def scan(running: RunningHub, device: SimulatedDevice) -> str:
    body = {"integrations": ["bacnet"], "addresses": [device.address], "timeout": 10}
    status, started = await call(running, "POST", "/api/devices/discover", body)
    assert status == 202, started
    await finished(running.hub.discovery, started["operation_id"])
    return started["operation_id"]


async def test_added_device__polled_at_once_kept_over_a_restart_and_removed(
    start_hub: StartHub, start_device, tmp_path: Path
):
    device = await start_device(1701, "--analog-inputs", "2", "--analog-values", "1", "--binary-values", "0")
    config = bacnet_config(tmp_path)
    first = await start_hub(config)
    operation_id = await scan(first, device)
    assert await call(first, "GET", "/api/devices/monitored", user="viewer") == (200, {"devices": []})
    results = f"/discovery?operation={operation_id}"
    assert "Add to monitoring" in await html(first, "operator", results)
    assert "Add to monitoring" not in await html(first, "viewer", results)  # a viewer may not add
    body = {"device_id": "1701", "points": CHOSEN}
    status, refused = await call(first, "POST", "/api/devices/monitored", body, user="viewer")
    assert status == 403, refused
    assert "1701" not in {d.id for d in first.hub.points.devices()}

    update = polled(first, "1701.analogValue.1")
    status, added = await call(first, "POST", "/api/devices/monitored", body, user="operator")
    assert status == 201, added
    assert (added["id"], added["operation_id"], added["added_by"], added["all_points"]) == (
        "1701",
        operation_id,
        "operator",
        False,
    )
    assert [p["id"] for p in added["points"]] == CHOSEN
    assert (await update).sample.value == 21.0
    assert sorted(p.id for p in first.hub.points.points("1701")) == CHOSEN  # analogInput.2 was not chosen
    for path in (results, "/devices/1701"):
        assert "Remove from monitoring" in await html(first, "operator", path)
        assert "Remove from monitoring" not in await html(first, "viewer", path)
    status, again = await call(first, "POST", "/api/devices/monitored", body, user="operator")
    assert (status, again) == (409, {"error": "device 1701 is already in monitoring (added by operator)"})
    _, events = await call(first, "GET", "/api/events?kind=monitoring.added")
    assert [(e["subject"], e["data"]["actor"]) for e in events["events"]] == [("1701", "operator")]
    await first.server.close()

    second = await start_hub(config)
    assert (await polled(second, "1701.analogValue.1")).sample.value == 21.0  # no scan after the restart
    _, listed = await call(second, "GET", "/api/devices/monitored", user="viewer")
    assert [(d["id"], [p["id"] for p in d["points"]]) for d in listed["devices"]] == [("1701", CHOSEN)]

    status, removed = await call(second, "DELETE", "/api/devices/monitored/1701", user="operator")
    assert (status, removed["id"]) == (200, "1701")
    assert await call(second, "GET", "/api/devices/1701") == (404, {"error": "unknown device '1701'"})
    status, gone = await call(second, "DELETE", "/api/devices/monitored/1701", user="operator")
    assert (status, gone) == (404, {"error": "device 1701 is not in monitoring"})
    await second.server.close()

    third = await start_hub(config)
    assert "1701" not in {d.id for d in third.hub.points.devices()}
    assert await call(third, "GET", "/api/devices/monitored") == (200, {"devices": []})


async def test_a_configured_device_is_refused_with_the_reason(
    start_hub: StartHub, start_device, tmp_path: Path
):
    device = await start_device(1702, "--analog-inputs", "1", "--analog-values", "0", "--binary-values", "0")
    running = await start_hub(
        bacnet_config(tmp_path, devices=[{"instance": 1702, "address": device.address}])
    )
    await scan(running, device)
    status, answer = await call(running, "POST", "/api/devices/monitored", {"device_id": "1702"})
    assert (status, answer) == (
        409,
        {"error": "device 1702 is already monitored (from the bacnet integration's config)"},
    )
    status, answer = await call(running, "DELETE", "/api/devices/monitored/1702")
    assert (status, answer) == (
        404,
        {"error": "device 1702 is in the config, not added from discovery: remove it there"},
    )
    status, answer = await call(running, "POST", "/api/devices/monitored", {"device_id": "1799"})
    assert (status, answer) == (
        404,
        {"error": "device '1799' is not in any kept discovery result: scan for it first"},
    )
    body = {"device_id": "1702", "points": ["1702.analogInput.9"]}
    status, answer = await call(running, "POST", "/api/devices/monitored", body)
    assert status == 409  # the configured device is refused before its points are looked at
