"""The simulator through its entry point: found like any integration, set up by a real hub from config."""

import asyncio
import dataclasses
from collections.abc import Callable

from hub.commands import WriteOutcome, WriteRequest
from hub.loader import IntegrationState, check_integration_configs, find_integrations
from hub.points import PointUpdate
from tests.conftest import StartHub, make_config
from tests.integrations.simulator.conftest import SMALL_SITE

WAIT_S = 10.0
FAST = {"scenario": "demo", "time_scale": 60, "poll_interval": 0.2}


async def next_update(bus, match: Callable[[PointUpdate], bool]) -> PointUpdate:
    """The next PointUpdate on the bus that matches."""
    arrived: asyncio.Future[PointUpdate] = asyncio.get_running_loop().create_future()

    def check(event: PointUpdate) -> None:
        if match(event) and not arrived.done():
            arrived.set_result(event)

    unsubscribe = bus.subscribe(PointUpdate, check)
    try:
        async with asyncio.timeout(WAIT_S):
            return await arrived
    finally:
        unsubscribe()


def test_entry_point__registered_as_a_built_in():
    found = find_integrations()["simulator"]
    assert (found.module, found.distribution) == ("integrations.simulator", "bms-hub")


def test_config__problems_reported_through_the_hub_preflight():
    [check] = check_integration_configs({"simulator": {"time_scale": 0, "sede": 1}})
    assert check.state == IntegrationState.CONFIG_INVALID
    assert [(issue.key, issue.message) for issue in check.issues] == [
        ("integrations.simulator.sede", "unknown key (did you mean 'seed'?)"),
        ("integrations.simulator.time_scale", "expected a number above 0 and at most 600"),
    ]


async def test_hub__polls_the_demo_site_and_a_write_changes_what_is_read_back(start_hub: StartHub, tmp_path):
    running = await start_hub(dataclasses.replace(make_config(tmp_path), integrations={"simulator": FAST}))
    hub = running.hub
    [status] = hub.integrations.statuses()
    assert status.state == IntegrationState.LOADED
    assert {d.id for d in hub.points.devices()} == {
        "ahu-1",
        "vav-1",
        "vav-2",
        "vav-3",
        "vav-4",
        "meter-1",
        "ch-1",
        "ch-2",
    }
    assert len(list(hub.points.points())) == 37

    update = await next_update(hub.bus, lambda e: e.point.id == "ahu-1.supply_air_temp")
    assert 5 < update.sample.value < 40  # type: ignore[operator]

    result = await hub.commands.write(WriteRequest("ahu-1.supply_air_setpoint", 18.5, priority=8))
    assert (result.outcome, result.verified, result.reason) == (WriteOutcome.WRITTEN, True, None)
    assert hub.points.latest("ahu-1.supply_air_setpoint").value == 18.5

    stopped = next_update(hub.bus, lambda e: e.point.id == "ahu-1.fan_status" and e.sample.value is False)
    result = await hub.commands.write(WriteRequest("ahu-1.fan_command", False))
    assert result.verified is True
    assert (await stopped).sample.value is False

    refused = await hub.commands.write(WriteRequest("vav-1.occupancy_mode", 7))
    assert refused.outcome == WriteOutcome.REFUSED  # the hub's own limits stop it before the device

    simulator = hub.integrations.get("simulator")
    assert simulator.history.of("ahu-1.supply_air_setpoint")[-1].value == 18.5  # type: ignore[union-attr]


async def test_hub__a_bad_scenario_fails_setup_with_its_line_and_the_hub_runs_on(
    start_hub: StartHub, tmp_path
):
    scenario = tmp_path / "broken.yaml"
    scenario.write_text(SMALL_SITE + "steps:\n  - {at: soon, offline: vav-1}\n")
    config = dataclasses.replace(
        make_config(tmp_path), integrations={"simulator": {"scenario": str(scenario)}}
    )
    running = await start_hub(config)
    [status] = running.hub.integrations.statuses()
    assert status.state == IntegrationState.SETUP_FAILED
    assert status.error == (
        f"async_setup raised ConfigError: {scenario}:9: steps[0].at:"
        " expected a time such as 90, 45s, 10m or 1h30m, got 'soon'"
    )
    assert not list(running.hub.points.devices())
