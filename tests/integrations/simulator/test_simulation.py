"""The simulation: deterministic replay, scenario steps taking effect on time, and the history of reads."""

import pytest

from hub.integration import DeviceError, WriteError
from hub.points import Quality
from integrations.simulator.history import Emitted
from integrations.simulator.scaleout import ScaleOutSpec
from integrations.simulator.simulation import Simulation
from tests.integrations.simulator.conftest import command, read, value

FAULTS = (
    "  - {at: 10m, set: outdoor_air_temp = 35}\n"
    "  - {at: 20m, fail: vav-1.zone_temp}\n"
    "  - {at: 25m, restore: vav-1.zone_temp}\n"
    "  - {at: 30m, offline: vav-2}\n"
    "  - {at: 35m, slow: vav-1, delay: 2s}\n"
    "  - {at: 40m, restore: vav-2}\n"
    "  - {at: 40m, restore: vav-1}\n"
    "  - {at: 45m, write: ahu-1.fan_command = false}\n"
)


def poll_everything(simulation: Simulation, minutes: int, every: float = 5.0) -> list[Emitted]:
    """Read every device every `every` simulated seconds, as the poller would; return the history."""
    for index in range(int(minutes * 60 / every) + 1):
        simulation.advance_to(index * every)
        for found in simulation.devices:
            try:
                simulation.read(found.points, 0.0)
            except DeviceError:
                continue
    return list(simulation.history)


def test_replay__same_scenario_and_seed_give_the_same_samples(small_site):
    first = poll_everything(Simulation(small_site(FAULTS), seed=3, history_size=100_000), 50)
    second = poll_everything(Simulation(small_site(FAULTS), seed=3, history_size=100_000), 50)
    assert len(first) > 5000
    assert first == second


def test_replay__another_seed_gives_other_noise_on_the_same_site(small_site):
    first = poll_everything(Simulation(small_site(), seed=3), 5)
    other = poll_everything(Simulation(small_site(), seed=4), 5)
    assert [(e.point_id, e.sim_time) for e in first] == [(e.point_id, e.sim_time) for e in other]
    assert [e.value for e in first] != [e.value for e in other]


def test_replay__values_do_not_depend_on_how_often_the_site_is_read(demo):
    often, once = Simulation(demo, seed=5), Simulation(demo, seed=5)
    poll_everything(often, 30, every=1.0)
    once.advance_to(30 * 60)
    assert {p: value(often, p) for p in often.points} == {p: value(once, p) for p in once.points}


def test_steps__outdoor_temperature_changes_at_its_time(small_site):
    simulation = Simulation(small_site("  - {at: 10m, set: outdoor_air_temp = 35}\n"))
    simulation.advance_to(599)
    assert value(simulation, "ahu-1.outdoor_air_temp") == pytest.approx(10, abs=0.5)
    simulation.advance_to(600)
    assert value(simulation, "ahu-1.outdoor_air_temp") == pytest.approx(35, abs=0.5)


def test_steps__a_zone_load_warms_its_zone(small_site):
    loaded = Simulation(small_site("  - {at: 1m, set: vav-1.zone_load = 6}\n"))
    quiet = Simulation(small_site())
    for simulation in (loaded, quiet):
        simulation.advance_to(3600)
    assert value(loaded, "vav-1.zone_temp") > value(quiet, "vav-1.zone_temp") + 1
    assert value(loaded, "vav-1.airflow") > value(quiet, "vav-1.airflow")


def test_steps__a_failed_sensor_reads_bad_with_the_reason_until_restored(small_site):
    simulation = Simulation(small_site(FAULTS))
    simulation.advance_to(20 * 60)
    failed = read(simulation, "vav-1.zone_temp")
    assert (failed.value, failed.quality, failed.reason) == (
        None,
        Quality.BAD,
        "sensor failed (scenario step at 20m)",
    )
    assert read(simulation, "vav-1.airflow").quality == Quality.GOOD  # only that sensor
    assert simulation.failed == {"vav-1.zone_temp": "sensor failed (scenario step at 20m)"}
    simulation.advance_to(25 * 60)
    assert read(simulation, "vav-1.zone_temp").quality == Quality.GOOD


def test_steps__an_offline_device_raises_device_error_and_others_still_answer(small_site):
    simulation = Simulation(small_site(FAULTS))
    simulation.advance_to(30 * 60)
    vav2 = [p for p in simulation.points.values() if p.device_id == "vav-2"]
    with pytest.raises(DeviceError, match=r"^vav-2 does not answer \(scenario step at 30m\)$"):
        simulation.read(vav2, 0.0)
    with pytest.raises(DeviceError):
        command(simulation, "vav-2.zone_setpoint", 22)
    assert read(simulation, "vav-1.zone_temp").quality == Quality.GOOD
    assert {e.quality for e in simulation.history.of("vav-2.airflow")} == {Quality.BAD}
    simulation.advance_to(40 * 60)
    assert read(simulation, "vav-2.zone_temp").quality == Quality.GOOD


def test_steps__slow_until_restored(small_site):
    simulation = Simulation(small_site(FAULTS))
    simulation.advance_to(35 * 60)
    assert simulation.slow == {"vav-1": 2.0}
    simulation.advance_to(40 * 60)
    assert simulation.slow == {}
    assert simulation.offline == {}


def test_steps__a_write_step_commands_the_point_at_its_priority(small_site):
    simulation = Simulation(small_site(FAULTS))
    simulation.advance_to(45 * 60 - 1)
    assert read(simulation, "ahu-1.fan_command").value is True
    simulation.advance_to(45 * 60)
    assert read(simulation, "ahu-1.fan_command").value is False
    command(simulation, "ahu-1.fan_command", True, priority=7)  # above the step's 8
    assert read(simulation, "ahu-1.fan_command").value is True
    assert simulation.pending_steps == 0


def test_write__refusals_say_why(demo):
    simulation = Simulation(demo)
    with pytest.raises(WriteError, match=r"^ahu-1\.supply_air_temp is read-only$"):
        command(simulation, "ahu-1.supply_air_temp", 12)
    with pytest.raises(WriteError, match=r"^vav-1\.zone_setpoint: 31\.0 is above the maximum 30$"):
        command(simulation, "vav-1.zone_setpoint", 31)
    with pytest.raises(WriteError, match=r"^vav-1\.occupancy_mode: 4 is not one of the allowed states"):
        command(simulation, "vav-1.occupancy_mode", 4)
    assert read(simulation, "vav-1.zone_setpoint").value == 21.0


def test_history__records_each_sample_with_its_simulated_time_and_stays_bounded(small_site):
    simulation = Simulation(small_site(), history_size=5)
    simulation.advance_to(90)
    read(simulation, "ahu-1.supply_air_temp")
    sample = read(simulation, "vav-1.zone_setpoint")
    assert list(simulation.history)[-1] == Emitted("vav-1.zone_setpoint", 90, sample.value, Quality.GOOD)
    mark = simulation.history.total
    for _ in range(7):
        read(simulation, "vav-1.airflow")
    assert len(simulation.history) == 5
    assert simulation.history.total == mark + 7
    assert [e.point_id for e in simulation.history.since(mark)] == ["vav-1.airflow"] * 5
    assert simulation.history.of("ahu-1.supply_air_temp") == []


def test_scale_out__generated_devices_with_their_own_deterministic_values(small_site):
    spec = ScaleOutSpec(count=3, points_per_device=4)
    simulation = Simulation(small_site(), seed=1, scale_out=spec)
    generated = [found for found in simulation.devices if found.device.id.startswith("sim-")]
    assert [found.device.id for found in generated] == ["sim-001", "sim-002", "sim-003"]
    assert [p.id for p in generated[0].points] == [
        "sim-001.p001",
        "sim-001.p002",
        "sim-001.p003",
        "sim-001.p004",
    ]
    simulation.advance_to(600)
    samples = simulation.read(generated[1].points, 0.0)
    again = Simulation(small_site(), seed=1, scale_out=spec)
    again.advance_to(600)
    assert again.read(generated[1].points, 0.0) == samples
    assert all(10 < s.value < 30 for s in samples.values())  # type: ignore[operator]
    with pytest.raises(WriteError, match="read-only"):
        command(simulation, "sim-001.p001", 1.0)


def test_scale_out__ids_may_not_clash_with_the_scenario(write_scenario):
    from integrations.simulator.scenario_loader import load_scenario

    path = write_scenario("ahu: {id: sim-001}\nvavs: [{id: vav-1}]\nmeter: {id: meter-1}\n")
    with pytest.raises(ValueError, match="the scenario uses ids of generated devices: sim-001"):
        Simulation(load_scenario(path), scale_out=ScaleOutSpec(count=2))
