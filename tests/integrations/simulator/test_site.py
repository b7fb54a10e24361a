"""The demo site responds to writes the way a real floor would (values are read through the simulation).

Thresholds are physical margins far above the sensor noise (0.05 °C), not timings.
"""

import pytest

from integrations.simulator.simulation import Simulation
from tests.integrations.simulator.conftest import command, read, value

MINUTE = 60


@pytest.fixture
def site(demo) -> Simulation:
    """The demo site after ten minutes, when its control loops have settled."""
    simulation = Simulation(demo, seed=7)
    simulation.advance_to(10 * MINUTE)
    return simulation


def later(simulation: Simulation, minutes: float) -> None:
    simulation.advance_to(simulation.time + minutes * MINUTE)


def test_site__settles_at_its_setpoints(site):
    later(site, 50)
    assert value(site, "ahu-1.supply_air_temp") == pytest.approx(16.0, abs=0.5)
    for vav in ("vav-1", "vav-3", "vav-4"):
        assert value(site, f"{vav}.zone_temp") == pytest.approx(21.0, abs=0.5)
    assert read(site, "ahu-1.fan_status").value is True
    assert 10 < value(site, "ahu-1.cooling_valve_command") < 100  # the air handler's own loop cools


def test_fan_off__supply_air_drifts_to_return_air_and_the_air_stops(site):
    assert value(site, "ahu-1.return_air_temp") - value(site, "ahu-1.supply_air_temp") > 3
    command(site, "ahu-1.fan_command", False)
    later(site, 30)
    assert value(site, "ahu-1.supply_air_temp") == pytest.approx(
        value(site, "ahu-1.return_air_temp"), abs=0.5
    )
    assert read(site, "ahu-1.fan_status").value is False
    assert value(site, "vav-1.airflow") < 10
    assert value(site, "ahu-1.supply_airflow") < 10
    assert value(site, "ahu-1.cooling_valve_command") == 0.0  # the coil loop stops with the fan


def test_fan_back_on__air_moves_again(site):
    command(site, "ahu-1.fan_command", False)
    later(site, 10)
    command(site, "ahu-1.fan_command", None)  # relinquish: the default runs the fan
    later(site, 5)
    assert read(site, "ahu-1.fan_status").value is True
    assert value(site, "ahu-1.supply_airflow") > 200


def test_heating_valve__opens_and_the_supply_air_warms(site):
    before = value(site, "ahu-1.supply_air_temp")
    command(site, "ahu-1.heating_valve_command", 100)
    command(site, "ahu-1.cooling_valve_command", 0)
    later(site, 10)
    assert value(site, "ahu-1.supply_air_temp") > before + 15


def test_cooling_valve__opens_and_the_supply_air_cools_below_mixed_air(site):
    command(site, "ahu-1.cooling_valve_command", 100)
    command(site, "ahu-1.heating_valve_command", 0)  # else the air handler's own loop heats against it
    later(site, 10)
    assert value(site, "ahu-1.supply_air_temp") < value(site, "ahu-1.mixed_air_temp") - 8


def test_supply_air_setpoint__the_coil_loop_follows_it(site):
    command(site, "ahu-1.supply_air_setpoint", 20)
    later(site, 20)
    assert value(site, "ahu-1.supply_air_temp") == pytest.approx(20.0, abs=0.5)


def test_vav_damper__more_air_cools_the_zone(demo):
    open_box, closed_box = Simulation(demo, seed=1), Simulation(demo, seed=1)
    command(open_box, "vav-1.damper_command", 100)
    command(closed_box, "vav-1.damper_command", 0)
    for simulation in (open_box, closed_box):
        simulation.advance_to(60 * MINUTE)
    assert value(open_box, "vav-1.airflow") == pytest.approx(300, abs=10)
    assert value(closed_box, "vav-1.airflow") < 10
    assert value(closed_box, "vav-1.zone_temp") - value(open_box, "vav-1.zone_temp") > 2


def test_zone_setpoint__the_box_lets_the_zone_warm_to_a_higher_setpoint(site):
    command(site, "vav-4.zone_setpoint", 24)
    later(site, 120)
    assert value(site, "vav-4.zone_temp") == pytest.approx(24.0, abs=0.5)


def test_occupancy_unoccupied__the_box_closes(site):
    command(site, "vav-2.occupancy_mode", 2)
    later(site, 5)
    assert value(site, "vav-2.damper_command") == 0.0
    assert value(site, "vav-2.airflow") < 10


def test_outdoor_damper__mixed_air_follows_the_outdoor_air(site):
    outdoor = value(site, "ahu-1.outdoor_air_temp")
    command(site, "ahu-1.outdoor_damper_command", 100)
    later(site, 5)
    assert value(site, "ahu-1.mixed_air_temp") == pytest.approx(outdoor, abs=0.5)
    command(site, "ahu-1.outdoor_damper_command", 0)
    later(site, 5)
    assert value(site, "ahu-1.mixed_air_temp") == pytest.approx(value(site, "ahu-1.return_air_temp"), abs=0.5)


def test_meter__power_follows_fan_and_valves_and_energy_integrates_it(site):
    running = value(site, "meter-1.power_kw")
    command(site, "ahu-1.fan_command", False)
    command(site, "ahu-1.cooling_valve_command", 0)
    later(site, 5)
    idle = value(site, "meter-1.power_kw")
    assert idle == pytest.approx(3.5, abs=0.3)  # the demo's base load
    assert running > idle + 2
    command(site, "ahu-1.heating_valve_command", 100)
    later(site, 5)
    assert value(site, "meter-1.power_kw") == pytest.approx(3.5 + 12.0, abs=0.3)
    start = value(site, "meter-1.energy_kwh")
    later(site, 60)
    assert value(site, "meter-1.energy_kwh") - start == pytest.approx(15.5, abs=0.2)


def test_chiller__proves_running_after_its_start_delay_and_stops_at_once(site):
    assert read(site, "ch-1.status").value is False  # off until commanded
    command(site, "ch-1.command", True)
    site.advance_to(site.time + 29)
    assert read(site, "ch-1.status").value is False  # the demo's chillers take 30 s to start
    site.advance_to(site.time + 2)
    assert (read(site, "ch-1.status").value, read(site, "ch-2.status").value) == (True, False)
    command(site, "ch-1.command", None)  # relinquish: the default is off
    site.advance_to(site.time + 1)
    assert read(site, "ch-1.status").value is False
