"""Discovery on loopback (unicast Who-Is to each device): devices, progress, objectList by index, cache."""

import asyncio

from hub.integration import DiscoveredDevice, DiscoveryProgress, DiscoveryRequest
from hub.points import PointKind
from tests.integrations.bacnet.conftest import WAIT_S

SMALL = ("--analog-inputs", "2", "--analog-values", "1", "--binary-values", "0")


async def run(integration, request: DiscoveryRequest) -> list:
    async with asyncio.timeout(WAIT_S * 3):
        return [event async for event in integration.discover(request)]


async def test_discover__three_devices_with_progress_and_by_range(make_integration, start_device):
    fleet = await start_device(1300, *SMALL, count=3)
    devices = fleet.members
    built = await make_integration({"discovery_window": 1.0})
    request = DiscoveryRequest(addresses=tuple(d.address for d in devices), timeout=10)
    events = await run(built.integration, request)
    found = [e for e in events if isinstance(e, DiscoveredDevice)]
    assert [f.device.id for f in found] == ["1300", "1301", "1302"]
    assert [f.device.address for f in found] == [d.address for d in devices]
    assert [p.id for p in found[0].points] == [
        "1300.analogInput.1",
        "1300.analogInput.2",
        "1300.analogValue.1",
    ]
    assert found[0].points[2].writable is True
    progress = [e for e in events if isinstance(e, DiscoveryProgress)]
    percents = [p.percent for p in progress]
    assert percents == sorted(percents)
    assert (percents[0], percents[-1]) == (0.0, 100.0)
    assert progress[1].message == "3 devices answered"
    assert [p.current for p in progress if p.message.startswith("reading")] == [
        f"{d.instance} at {d.address}" for d in devices
    ]
    assert progress[-1].message == "3 devices read"
    assert list(built.registry.devices()) == []  # found, not polled: poll_discovered is off

    ranged = DiscoveryRequest(1301, 1400, tuple(d.address for d in devices), timeout=10)
    found = [e for e in await run(built.integration, ranged) if isinstance(e, DiscoveredDevice)]
    assert [f.device.id for f in found] == ["1301", "1302"]


async def test_discover__a_thousand_objects_from_a_device_that_cannot_segment(make_integration, start_device):
    device = await start_device(
        1320, "--analog-inputs", "1000", "--analog-values", "0", "--binary-values", "0", "--no-segmentation",
        "--no-drift",
    )  # fmt: skip
    built = await make_integration({"discovery_window": 1.0, "max_concurrent": 4})
    events = await run(built.integration, DiscoveryRequest(addresses=(device.address,), timeout=10))
    [found] = [e for e in events if isinstance(e, DiscoveredDevice)]
    assert len(found.points) == 1000
    assert found.points[999].id == "1320.analogInput.1000"
    assert (found.points[999].name, found.points[999].kind) == ("AI-1000", PointKind.ANALOG)
    messages = [e.message for e in events if isinstance(e, DiscoveryProgress)]
    assert "device 1320 cannot send its objectList of 1002 whole: reading it by index" in messages


async def test_discover__results_are_cached_and_polled_after_a_restart(
    make_integration, start_device, tmp_path
):
    device = await start_device(1330, *SMALL, "--no-drift")
    built = await make_integration(
        {"discovery_window": 1.0, "poll_discovered": True}, data_dir=tmp_path / "d"
    )
    await run(built.integration, DiscoveryRequest(addresses=(device.address,), timeout=10))
    await built.device_added("1330")  # poll_discovered: registered at once
    await device.kill()
    # A restart with the device gone: it comes back from the cache, no rescan needed.
    again = await make_integration({"poll_discovered": True}, data_dir=tmp_path / "d")
    assert [d.id for d in again.registry.devices()] == ["1330"]
    assert len(list(again.registry.points("1330"))) == 3
    assert again.integration.waiting == {}
