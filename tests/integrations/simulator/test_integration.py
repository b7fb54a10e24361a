"""The integration on real hub parts with a fake clock: time scaling, reads, writes, discovery, health."""

import asyncio

import pytest

from hub.health import HealthStatus
from hub.integration import (
    DeviceError,
    DiscoveredDevice,
    DiscoveryProgress,
    DiscoveryRequest,
    Integration,
    PriorityArrayIntegration,
    WriteError,
)
from hub.points import Quality
from tests.integrations.simulator.conftest import Built

WAIT_S = 10.0


def points_of(built: Built, device_id: str):
    return list(built.registry.points(device_id))


async def test_start__registers_every_device_and_point_and_checks_as_an_integration(make_integration, demo):
    built = make_integration(demo)
    assert isinstance(built.integration, Integration)
    await built.integration.start()
    devices = {device.id: device for device in built.registry.devices()}
    assert list(devices) == ["ahu-1", "vav-1", "vav-2", "vav-3", "vav-4", "meter-1", "ch-1", "ch-2"]
    assert {device.domain for device in devices.values()} == {"simulator"}
    assert devices["vav-1"].poll_interval == 5.0
    setpoint = built.registry.point("vav-2.zone_setpoint")
    assert (setpoint.writable, setpoint.units, setpoint.limits.minimum, setpoint.limits.maximum) == (
        True, "°C", 15, 30,
    )  # fmt: skip
    assert built.registry.point("vav-2.occupancy_mode").limits.states == (1, 2, 3)


async def test_read__simulated_time_is_wall_time_times_the_scale(make_integration, demo):
    built = make_integration(demo, time_scale=60)
    await built.integration.start()
    built.clock.now += 10  # ten wall seconds: ten simulated minutes
    samples = await built.integration.read(points_of(built, "ahu-1"))
    assert built.integration.simulation.time == 600
    assert {s.timestamp for s in samples.values()} == {built.clock.now}  # samples carry wall time
    assert {e.sim_time for e in built.integration.history.since(0)} == {600}
    assert samples["ahu-1.fan_status"].value is True


async def test_write__read_back_shows_the_effective_value_and_refusals_say_why(make_integration, demo):
    built = make_integration(demo)
    await built.integration.start()
    [setpoint] = [p for p in points_of(built, "ahu-1") if p.name == "supply_air_setpoint"]
    await built.integration.write(setpoint, 18.0, 8)
    assert (await built.integration.read([setpoint]))[setpoint.id].value == 18.0
    with pytest.raises(WriteError, match=r"^ahu-1\.supply_air_setpoint: 35\.0 is above the maximum 30$"):
        await built.integration.write(setpoint, 35, 8)
    await built.integration.write(setpoint, None, 8)
    assert (await built.integration.read([setpoint]))[setpoint.id].value == 16.0


async def test_priority_array__who_holds_each_slot_over_the_relinquish_default(make_integration, small_site):
    built = make_integration(small_site("  - {at: 1m, offline: vav-2}\n"))
    assert isinstance(built.integration, PriorityArrayIntegration)
    await built.integration.start()
    await built.integration.write(built.registry.point("vav-1.zone_setpoint"), 24.0, 8)
    array = await built.integration.priority_array("vav-1.zone_setpoint")
    assert array.slots == (None,) * 7 + (24.0,) + (None,) * 8
    assert array.relinquish_default == 21.0
    assert await built.integration.priority_array("vav-1.zone_temp") is None  # a sensor
    built.clock.now += 60
    with pytest.raises(DeviceError, match="vav-2 does not answer"):
        await built.integration.priority_array("vav-2.zone_setpoint")


async def test_read__a_failed_sensor_and_an_offline_device(make_integration, small_site):
    built = make_integration(
        small_site("  - {at: 1m, fail: vav-1.zone_temp}\n  - {at: 1m, offline: vav-2}\n")
    )
    await built.integration.start()
    built.clock.now += 60
    samples = await built.integration.read(points_of(built, "vav-1"))
    assert (samples["vav-1.zone_temp"].quality, samples["vav-1.zone_temp"].reason) == (
        Quality.BAD, "sensor failed (scenario step at 1m)",
    )  # fmt: skip
    assert samples["vav-1.airflow"].quality == Quality.GOOD
    with pytest.raises(DeviceError, match="vav-2 does not answer"):
        await built.integration.read(points_of(built, "vav-2"))


async def test_read__a_slow_device_never_delays_another(make_integration, small_site):
    built = make_integration(small_site("  - {at: 0s, slow: vav-2, delay: 10m}\n"))
    await built.integration.start()
    slow = asyncio.create_task(built.integration.read(points_of(built, "vav-2")))
    try:
        async with asyncio.timeout(WAIT_S):
            fast = await built.integration.read(points_of(built, "vav-1"))
        assert fast["vav-1.zone_temp"].quality == Quality.GOOD
        assert not slow.done()  # still waiting out its ten minutes
    finally:
        slow.cancel()


async def test_discover__every_answering_device_with_its_points(make_integration, small_site):
    built = make_integration(small_site("  - {at: 0s, offline: vav-2}\n"))
    await built.integration.start()
    events = [event async for event in built.integration.discover(DiscoveryRequest(timeout=5))]
    found = [e for e in events if isinstance(e, DiscoveredDevice)]
    assert [d.device.id for d in found] == ["ahu-1", "vav-1", "meter-1"]
    assert [p.id for p in found[1].points] == [p.id for p in points_of(built, "vav-1")]
    progress = [e for e in events if isinstance(e, DiscoveryProgress)]
    assert progress[0].percent == 0.0
    assert (progress[-1].percent, progress[-1].message) == (100.0, "3 devices found, 1 did not answer")


async def test_discover__a_device_slower_than_the_timeout_is_not_waited_for(make_integration, small_site):
    built = make_integration(small_site("  - {at: 0s, slow: meter-1, delay: 10m}\n"))
    await built.integration.start()
    async with asyncio.timeout(WAIT_S):
        events = [event async for event in built.integration.discover(DiscoveryRequest(timeout=60))]
    assert [e.device.id for e in events if isinstance(e, DiscoveredDevice)] == ["ahu-1", "vav-1", "vav-2"]
    assert events[-1].message == "3 devices found, 1 did not answer"


async def test_health__where_the_scenario_stands(make_integration, small_site):
    built = make_integration(
        small_site(
            "  - {at: 1m, fail: vav-1.zone_temp}\n"
            "  - {at: 1m, offline: vav-2}\n"
            "  - {at: 1h, restore: vav-2}\n"
        ),
        seed=4,
        time_scale=60,
    )
    await built.integration.start()
    built.clock.now += 90  # 90 wall seconds at x60: an hour and a half of scenario
    health = built.integration.health()
    assert health.status == HealthStatus.OK
    assert health.detail == {
        "scenario": "Small site",
        "seed": 4,
        "time_scale": 60,
        "sim_time": "1h30m",
        "sim_time_s": 5400,
        "devices": 4,
        "points": 23,
        "failed_sensors": ["vav-1.zone_temp"],
        "offline_devices": [],
        "slow_devices": {},
        "steps_pending": 0,
        "history": 0,
    }
