"""Scenario files: the demo, every step kind, and every mistake reported as file:line: key: message."""

import pytest

from hub.config import ConfigError
from integrations.simulator.equipment import AhuPoint, ChillerPoint, MeterPoint, VavPoint
from integrations.simulator.scenario import (
    FailPoint,
    RestoreDevice,
    RestorePoint,
    SetInput,
    SiteInput,
    SlowDown,
    TakeOffline,
    WritePoint,
)
from integrations.simulator.scenario_loader import built_in_scenarios, load_scenario, open_scenario
from integrations.simulator.simulation import Simulation
from tests.integrations.simulator.conftest import SMALL_SITE

SITE_LINES = SMALL_SITE.count("\n")  # the first step is on line SITE_LINES + 2


def test_open_scenario__demo_has_the_fixed_device_and_point_ids():
    assert "demo" in built_in_scenarios()
    simulation = Simulation(open_scenario("demo"))
    devices = [found.device.id for found in simulation.devices]
    assert devices == ["ahu-1", "vav-1", "vav-2", "vav-3", "vav-4", "meter-1", "ch-1", "ch-2"]
    expected = {f"ahu-1.{name}" for name in AhuPoint} | {f"meter-1.{name}" for name in MeterPoint}
    expected |= {f"vav-{n}.{name}" for n in range(1, 5) for name in VavPoint}
    expected |= {f"ch-{n}.{name}" for n in (1, 2) for name in ChillerPoint}
    assert set(simulation.points) == expected
    assert {"ahu-1.supply_air_temp", "vav-3.occupancy_mode", "meter-1.energy_kwh"} <= expected


def test_open_scenario__a_file_relative_to_the_given_folder(tmp_path):
    (tmp_path / "site.yaml").write_text(SMALL_SITE)
    assert open_scenario("site.yaml", base=tmp_path).name == "Small site"


def test_open_scenario__neither_built_in_nor_a_file(tmp_path):
    with pytest.raises(ConfigError) as caught:
        open_scenario("nope", base=tmp_path)
    assert str(caught.value) == f"{tmp_path / 'nope'}: no such scenario file (built-in scenarios: demo)"


def test_load_scenario__every_step_kind_sorted_by_time(small_site):
    scenario = small_site(
        "  - {at: 30m, offline: vav-2}\n"
        "  - {at: 10m, set: outdoor_air_temp = 35}\n"
        "  - {at: 10m, set: vav-1.zone_load = 2.5}\n"
        "  - {at: 20m, fail: vav-1.zone_temp}\n"
        "  - {at: 25m, restore: vav-1.zone_temp}\n"
        "  - {at: 35m, slow: vav-1, delay: 2s}\n"
        "  - {at: 40m, restore: vav-1}\n"
        "  - {at: 1h, write: ahu-1.fan_command = false, priority: 5}\n"
        "  - {at: 1h5m, write: ahu-1.fan_command = null}\n"
    )
    assert scenario.steps == (
        SetInput(600.0, SiteInput.OUTDOOR_AIR_TEMP, 35.0),
        SetInput(600.0, SiteInput.ZONE_LOAD, 2.5, "vav-1"),
        FailPoint(1200.0, "vav-1.zone_temp"),
        RestorePoint(1500.0, "vav-1.zone_temp"),
        TakeOffline(1800.0, "vav-2"),
        SlowDown(2100.0, "vav-1", 2.0),
        RestoreDevice(2400.0, "vav-1"),
        WritePoint(3600.0, "ahu-1.fan_command", False, 5),
        WritePoint(3900.0, "ahu-1.fan_command", None, 8),
    )
    assert scenario.site.outdoor_air_temp == 10.0
    assert [vav.id for vav in scenario.site.vavs] == ["vav-1", "vav-2"]


STEP = SITE_LINES + 2


@pytest.mark.parametrize(
    ("step", "key", "message"),
    [
        pytest.param(
            "{at: ten minutes, fail: vav-1.zone_temp}",
            "steps[0].at",
            "expected a time such as 90, 45s, 10m or 1h30m, got 'ten minutes'",
            id="bad_time",
        ),
        pytest.param(
            "{at: 20m, fail: vav-3.zone_temp}",
            "steps[0].fail",
            "expected a point of the site (did you mean 'vav-2.zone_temp'?), got 'vav-3.zone_temp'",
            id="unknown_point",
        ),
        pytest.param(
            "{at: 30m, offline: vav-7}",
            "steps[0].offline",
            "expected a device of the site (did you mean 'vav-2'?), got 'vav-7'",
            id="unknown_device",
        ),
        pytest.param(
            "{at: 30m, restore: boiler}",
            "steps[0].restore",
            "expected a point or device of the site, got 'boiler'",
            id="unknown_restore",
        ),
        pytest.param(
            "{at: 1m, set: outdoor_temp = 30}",
            "steps[0].set",
            "expected an input of the site (did you mean 'outdoor_air_temp'?), got 'outdoor_temp = 30'",
            id="unknown_input",
        ),
        pytest.param(
            "{at: 1m, set: outdoor_air_temp = hot}",
            "steps[0].set",
            "expected a number between -40 and 60 for outdoor_air_temp, got 'outdoor_air_temp = hot'",
            id="set_not_a_number",
        ),
        pytest.param(
            "{at: 1m, set: outdoor_air_temp}",
            "steps[0].set",
            "expected 'name = value', e.g. 'outdoor_air_temp = 35', got 'outdoor_air_temp'",
            id="set_without_value",
        ),
        pytest.param(
            "{at: 1m, write: ahu-1.supply_air_setpoint = 45}",
            "steps[0].write",
            "expected a value the point accepts (ahu-1.supply_air_setpoint: 45.0 is above the maximum 30),"
            " got 'ahu-1.supply_air_setpoint = 45'",
            id="write_out_of_range",
        ),
        pytest.param(
            "{at: 1m, write: ahu-1.supply_air_temp = 12}",
            "steps[0].write",
            "expected a writable point of the site (did you mean 'ahu-1.supply_air_setpoint'?),"
            " got 'ahu-1.supply_air_temp = 12'",
            id="write_read_only",
        ),
        pytest.param(
            "{at: 1m, write: ahu-1.fan_command = true, priority: 17}",
            "steps[0].priority",
            "expected int between 1 and 16, got 17",
            id="bad_priority",
        ),
        pytest.param(
            "{at: 1m, fail: vav-1.zone_temp, offline: vav-2}",
            "steps[0]",
            "a step needs exactly one of set, write, fail, restore, offline, slow",
            id="two_actions",
        ),
        pytest.param(
            "{at: 1m}",
            "steps[0]",
            "a step needs exactly one of set, write, fail, restore, offline, slow",
            id="no_action",
        ),
        pytest.param(
            "{at: 1m, slow: vav-1}",
            "steps[0].slow",
            "a slow step needs a delay, e.g. delay: 2s",
            id="slow_without_delay",
        ),
        pytest.param(
            "{at: 1m, slow: vav-1, delay: 1h}",
            "steps[0].delay",
            "expected a delay above 0 and at most 10m, e.g. 2s, got '1h'",
            id="delay_too_long",
        ),
        pytest.param(
            "{at: 1m, offline: vav-1, delay: 2s}",
            "steps[0].delay",
            "only a slow step takes a delay",
            id="delay_without_slow",
        ),
        pytest.param(
            "{at: 1m, fail: vav-1.zone_temp, dely: 2s}",
            "steps[0].dely",
            "unknown key (did you mean 'delay'?)",
            id="unknown_step_key",
        ),
    ],
)
def test_load_scenario__invalid_step(small_site, step, key, message):
    with pytest.raises(ConfigError) as caught:
        small_site(f"  - {step}\n")
    [issue] = caught.value.issues
    assert (issue.line, issue.key, issue.message) == (STEP, key, message)
    assert str(issue) == f"{issue.file}:{STEP}: {key}: {message}"


def test_load_scenario__every_problem_at_once_in_file_order(write_scenario):
    path = write_scenario(
        "outdoor_temp: 10\n"  # 1
        "ahu: {id: ahu-1, fan_kw: lots}\n"  # 2
        "vavs:\n"  # 3
        "  - {id: vav-1, max_airflow: 5}\n"  # 4
        "  - {id: ahu-1}\n"  # 5
        "meter: {id: meter-1, colour: red}\n"  # 6
        "steps:\n"  # 7
        "  - {at: 1m, offline: vav-9}\n"  # 8
    )
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert str(caught.value).splitlines() == [
        f"{path}:1: outdoor_temp: unknown key (did you mean 'outdoor_air_temp'?)",
        f"{path}:2: ahu.fan_kw: expected a number between 0 and 1000, got 'lots'",
        f"{path}:4: vavs[0].max_airflow: expected a number between 10 and 10000, got 5",
        f"{path}:6: meter.colour: unknown key (expected one of: id, name, base_load, energy)",
    ]


def test_load_scenario__references_checked_once_the_shape_is_right(write_scenario):
    path = write_scenario(
        "ahu: {id: ahu-1}\n"
        "vavs:\n"
        "  - {id: vav-1}\n"
        "  - {id: ahu-1}\n"
        "meter: {id: meter-1}\n"
        "steps:\n"
        "  - {at: 1m, offline: vav-9}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert str(caught.value).splitlines() == [
        f"{path}:4: vavs[1].id: duplicate device id, already used by ahu",
        f"{path}:7: steps[0].offline: expected a device of the site (did you mean 'vav-1'?), got 'vav-9'",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ahu: {id: ahu-1}\nmeter: {id: m}\n", ":1: vavs: required key missing"),
        ("ahu: {id: a}\nvavs: []\nmeter: {id: m}\n", ":2: vavs: expected at least one VAV box, got a list"),
        ("ahu: {id: 'a b'}\nvavs: [{id: v}]\nmeter: {id: m}\n",
         ":1: ahu.id: expected a device id: up to 64 letters, digits, '_' or '-', got 'a b'"),
        ("- just a list\n", ":1: expected a mapping, got a list"),
        ("ahu: {id: ahu-1\n", ":2: invalid YAML"),
        ("ahu: {id: a}\nvavs: [{id: v}]\nmeter: {id: m}\nchillers:\n  - {id: v}\n",
         ":5: chillers[0].id: duplicate device id, already used by vavs[0]"),
        ("ahu: {id: a}\nvavs: [{id: v}]\nmeter: {id: m}\nchillers:\n  - {id: c, start_delay: soon}\n",
         ":5: chillers[0].start_delay: "),
    ],
)  # fmt: skip
def test_load_scenario__invalid_site(write_scenario, text, expected):
    path = write_scenario(text)
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}{expected}")
