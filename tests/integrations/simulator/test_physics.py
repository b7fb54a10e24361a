"""The physics functions on their own: lags settle, air mixes, zones balance, loops do not wind up."""

import pytest

from integrations.simulator import physics


def test_lag__reaches_63_percent_after_one_time_constant_and_settles():
    value = 0.0
    for _ in range(60):
        value = physics.lag(value, 10.0, tau=60.0, dt=1.0)
    assert value == pytest.approx(10.0 * (1 - 2.718281828**-1), rel=1e-6)
    for _ in range(3000):
        value = physics.lag(value, 10.0, tau=60.0, dt=1.0)
    assert value == pytest.approx(10.0)


def test_mixed_air__follows_the_outdoor_damper_only_while_air_moves():
    assert physics.mixed_air_target(22.0, 2.0, damper_pct=0, fan_speed=1) == 22.0
    assert physics.mixed_air_target(22.0, 2.0, damper_pct=100, fan_speed=1) == 2.0
    assert physics.mixed_air_target(22.0, 2.0, damper_pct=25, fan_speed=1) == 17.0
    assert physics.mixed_air_target(22.0, 2.0, damper_pct=100, fan_speed=0) == 22.0


def test_supply_air__coils_move_it_and_still_air_is_return_air():
    neutral = physics.supply_air_target(20.0, 22.0, heating_pct=0, cooling_pct=0, fan_speed=1)
    assert neutral == 20.0 + physics.FAN_HEAT_C
    assert physics.supply_air_target(20.0, 22.0, 100, 0, 1) > neutral + 15
    assert physics.supply_air_target(20.0, 22.0, 0, 100, 1) < neutral - 8
    assert physics.supply_air_target(20.0, 22.0, 100, 0, fan_speed=0) == 22.0


def test_zone__cool_air_removes_heat_and_no_air_lets_the_load_warm_it():
    cooled = physics.zone_temp_after(22.0, supply_air=16.0, airflow=300, load_kw=1.0, outdoor_air=22.0, dt=60)
    warmed = physics.zone_temp_after(22.0, supply_air=16.0, airflow=0, load_kw=1.0, outdoor_air=22.0, dt=60)
    assert cooled < 22.0 < warmed
    assert warmed == pytest.approx(22.0 + 60 / physics.ZONE_CAPACITY_KJ_PER_K)


def test_return_air__weights_zones_by_airflow():
    assert physics.return_air_target([20.0, 24.0], [300.0, 100.0]) == 21.0 + physics.PLENUM_GAIN_C
    assert physics.return_air_target([20.0, 24.0], [0.0, 0.0]) == 22.0 + physics.PLENUM_GAIN_C


def test_electric_power__fan_cube_law_and_valves_in_proportion():
    assert physics.electric_power(3.0, 2.0, 1.0, 12.0, 50, 8.0, 0) == 3.0 + 2.0 + 6.0
    assert physics.electric_power(3.0, 2.0, 0.5, 12.0, 0, 8.0, 100) == 3.0 + 0.25 + 8.0


def test_pi_loop__stays_in_range_and_recovers_at_once_when_the_error_turns():
    loop = physics.PiLoop(gain=10.0, integral_time=60.0, low=0.0, high=100.0)
    outputs = [loop.update(5.0, 1.0) for _ in range(10_000)]
    assert outputs[0] == pytest.approx(50.0 + 10.0 * 5.0 / 60.0)
    assert min(outputs) >= 0.0
    assert max(outputs) == outputs[-1] == 100.0
    assert loop.integral == 100.0  # held at the limit, not wound up beyond it
    assert loop.update(-1.0, 1.0) < 100.0
    loop.reset()
    assert loop.update(0.0, 1.0) == 0.0
