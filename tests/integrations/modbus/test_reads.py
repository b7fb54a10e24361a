"""Reads against the simulator in another process: values, minimal requests counted by the server, errors."""

import asyncio

import pytest

from hub.integration import DeviceError, Integration
from hub.points import Quality
from integrations.modbus.profiles import built_in_profiles
from tests.integrations.modbus.conftest import WAIT_S


def meter(port: int, **extra: object) -> dict:
    return {"devices": {"meter": {"host": "127.0.0.1", "port": port, "profile": "energy_meter", **extra}}}


async def test_read__the_energy_meter_in_the_planned_minimum_of_requests(start_sim, make_integration):
    sim = await start_sim("--profile", "energy_meter")
    built = await make_integration(meter(sim.port))
    assert isinstance(built.integration, Integration)
    points = built.points("meter")
    device = built.integration.devices["meter"]
    plan = built.integration.plan(device, device.points)
    # holding 10 | 20 | 100-107; input 0-11 | 52-71 (gaps of 8 and 7 bridged) | 342-345
    assert [(str(r.table), r.address, r.count) for r in plan] == [
        ("holding", 10, 1),
        ("holding", 20, 1),
        ("holding", 100, 8),
        ("input", 0, 12),
        ("input", 52, 20),
        ("input", 342, 4),
    ]
    await sim.requests()
    samples = await built.integration.read(points)
    assert await sim.requests() == len(plan) == 6
    expected = {raw["name"]: raw["simulate"] for raw in built_in_profiles()["energy_meter"].points}
    assert {point_id.removeprefix("meter."): s.value for point_id, s in samples.items()} == expected
    assert {s.quality for s in samples.values()} == {Quality.GOOD}
    assert built.registry.point("meter.energy_import").address == "input:342"


async def test_read__exception_codes_mark_only_the_refused_points(start_sim, make_integration):
    sim = await start_sim("--profile", "energy_meter", "--fault", "input:8=4", "--fault", "holding:20=6")
    built = await make_integration(
        meter(sim.port, points=[{"name": "missing", "table": "input", "address": 1000}])
    )  # input 1000 is past the simulated meter's registers: illegal data address
    for _ in range(2):  # a failure or a busy device may pass: the plan stays as it was
        await sim.requests()
        samples = await built.integration.read(built.points("meter"))
        assert {pid: s.reason for pid, s in samples.items() if s.quality == Quality.BAD} == {
            "meter.current_l2": "exception 4 (device failure)",
            "meter.missing": "exception 2 (illegal data address)",
            "meter.alarm_overvoltage": "exception 6 (device busy)",
            "meter.alarm_phase_loss": "exception 6 (device busy)",
        }
        assert samples["meter.current_l3"].value == 13.125
        # 7 planned; the refused input 0-11 block again point by point (6); holding 20 holds both bits
        assert await sim.requests() == 7 + 6
    assert built.integration.health().detail["points_read_alone"] == 0


async def test_read__a_device_with_holes_in_its_map_is_planned_around_them(start_sim, make_integration):
    sim = await start_sim("--profile", "energy_meter", "--holes")
    built = await make_integration(
        meter(sim.port, points=[{"name": "missing", "table": "input", "address": 14}])
    )
    first = await built.integration.read(built.points("meter"))
    assert {pid: s.reason for pid, s in first.items() if s.quality == Quality.BAD} == {
        "meter.missing": "exception 2 (illegal data address)",
    }
    device = built.integration.devices["meter"]
    plan = built.integration.plan(device, device.points)
    # no bridging any more (input 52, 62, 70 apart); the refused point alone
    assert [(str(r.table), r.address, r.count) for r in plan] == [
        ("holding", 10, 1),
        ("holding", 20, 1),
        ("holding", 100, 8),
        ("input", 0, 12),
        ("input", 52, 2),
        ("input", 62, 1),
        ("input", 70, 2),
        ("input", 342, 4),
        ("input", 14, 1),
    ]
    await sim.requests()
    second = await built.integration.read(built.points("meter"))
    assert await sim.requests() == len(plan)
    assert {pid: s.value for pid, s in second.items()} == {pid: s.value for pid, s in first.items()}


async def test_read__a_unit_that_is_not_there_is_a_device_error(start_sim, make_integration):
    sim = await start_sim("--unit", "1")
    built = await make_integration(meter(sim.port, unit=5))
    with pytest.raises(DeviceError, match=r"unit 5 at 127.0.0.1:\d+: exception 11 \(gateway target failed"):
        await built.integration.read(built.points("meter"))


async def test_read__a_device_that_never_answers_times_out(make_integration):
    """A real socket that accepts and reads but never answers: the timeout is the device's."""
    connected = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        built = await make_integration(meter(port, timeout=0.2))
        with pytest.raises(DeviceError, match=rf"no answer from 127.0.0.1:{port} within 0.2 s"):
            await built.integration.read(built.points("meter"))
        assert connected.is_set()
    finally:
        server.close()
        await server.wait_closed()


async def test_read__a_server_that_goes_away_and_comes_back(start_sim, make_integration, fake_monotonic):
    sim = await start_sim("--profile", "vfd")
    other = await start_sim("--profile", "energy_meter")
    built = await make_integration(
        {
            "devices": {
                "vfd": {"host": "127.0.0.1", "port": sim.port, "profile": "vfd"},
                "meter": {"host": "127.0.0.1", "port": other.port, "profile": "energy_meter"},
            }
        }
    )
    vfd, meter_points = built.points("vfd"), built.points("meter")
    assert (await built.integration.read(vfd))["vfd.output_frequency"].value == 44.98
    await sim.stop()
    with pytest.raises(DeviceError, match=r"127\.0\.0\.1"):
        await built.integration.read(vfd)
    with pytest.raises(DeviceError, match=r"127.0.0.1:\d+.*; next try in"):
        await built.integration.read(vfd)  # backing off: not even a connection attempt
    assert (await built.integration.read(meter_points))["meter.frequency"].value == 50.0  # unaffected
    await start_sim("--profile", "vfd", port=sim.port)
    fake_monotonic.now += 60  # past the backoff
    assert (await built.integration.read(vfd))["vfd.output_frequency"].value == 44.98
    detail = built.integration.health().detail["connections"][f"127.0.0.1:{sim.port}"]
    assert (detail["connected"], detail["failures"], detail["last_error"]) == (True, 0, None)


async def test_read__a_silent_device_does_not_hold_up_a_device_on_another_host(start_sim, make_integration):
    sim = await start_sim("--profile", "energy_meter")
    asked = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        asked.set()  # a request is in flight and will never be answered
        await reader.read()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    built = await make_integration({"devices": {
        "stuck": {"host": "127.0.0.1", "port": port, "profile": "vfd", "timeout": 60},
        "meter": {"host": "127.0.0.1", "port": sim.port, "profile": "energy_meter"},
    }})  # fmt: skip
    stuck = asyncio.create_task(built.integration.read(built.points("stuck")))
    try:
        async with asyncio.timeout(WAIT_S):
            await asked.wait()
        samples = await built.integration.read(built.points("meter"))
        assert samples["meter.frequency"].value == 50.0
        assert not stuck.done()  # still waiting for its answer: the meter did not queue behind it
    finally:
        stuck.cancel()
        server.close()
        await server.wait_closed()
