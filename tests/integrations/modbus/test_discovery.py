"""Discovery: the configured devices with their points, and a unit-id scan of a simulated gateway."""

from hub.integration import DiscoveredDevice, DiscoveryProgress, DiscoveryRequest
from hub.loader import find_integrations
from hub.points import PointKind


async def collect(
    integration, request: DiscoveryRequest
) -> tuple[list[DiscoveredDevice], list[DiscoveryProgress]]:
    events = [event async for event in integration.discover(request)]
    return [e for e in events if isinstance(e, DiscoveredDevice)], [
        e for e in events if isinstance(e, DiscoveryProgress)
    ]


def test_entry_point__registered_as_a_built_in():
    found = find_integrations()["modbus"]
    assert (found.module, found.distribution) == ("integrations.modbus", "bms-hub")


async def test_discover__lists_configured_devices_and_their_points(make_integration):
    built = await make_integration(
        {"devices": {"drive-1": {"host": "10.9.9.9", "unit": 4, "profile": "vfd"}}}
    )
    devices, progress = await collect(built.integration, DiscoveryRequest())
    [found] = devices
    assert (found.device.id, found.device.address, found.device.domain) == (
        "drive-1",
        "10.9.9.9:502/4",
        "modbus",
    )
    points = {p.name: p for p in found.points}
    assert (points["running"].kind, points["running"].address) == (PointKind.BINARY, "discrete:0")
    assert (points["speed_setpoint"].writable, points["speed_setpoint"].limits.maximum) == (True, 60.0)
    assert progress[-1].percent == 100.0


async def test_discover__scans_a_unit_id_range_on_a_host(start_sim, make_integration):
    sim = await start_sim("--unit", "2-3", "--unit", "7")
    built = await make_integration({})
    request = DiscoveryRequest(
        low_instance=1, high_instance=9, addresses=(f"127.0.0.1:{sim.port}",), timeout=30
    )
    devices, progress = await collect(built.integration, request)
    assert [d.device.address for d in devices] == [f"127.0.0.1:{sim.port}/{unit}" for unit in (2, 3, 7)]
    assert devices[0].device.id == f"modbus-127-0-0-1-{sim.port}-unit2"
    assert progress[-1].percent == 100.0


async def test_discover__a_host_that_refuses_connections_is_reported(make_integration, unused_tcp_port):
    built = await make_integration({})
    request = DiscoveryRequest(low_instance=1, high_instance=3, addresses=(f"127.0.0.1:{unused_tcp_port}",))
    devices, progress = await collect(built.integration, request)
    assert devices == []
    assert f"cannot connect to 127.0.0.1:{unused_tcp_port}" in [p.message for p in progress][-1]
