"""The site's physics as pure functions: first-order lags, coil and mixing models, zone heat balances.

Units: °C, % (0-100), L/s, kW, kJ/K, seconds. The constants describe a plausible small office floor;
nothing here is calibrated, it only has to respond the way a real site would.
"""

import math
from collections.abc import Sequence

AIR_KW_PER_LPS_K = 1.2 * 1.005 / 1000  # kW to warm 1 L/s of air by 1 K: density 1.2 kg/m³, cp 1.005 kJ/(kg·K)
CHILLED_WATER_C = 7.0
HOT_WATER_C = 60.0
COOLING_COIL_EFFECTIVENESS = 0.8  # with the valve fully open
HEATING_COIL_EFFECTIVENESS = 0.5
FAN_HEAT_C = 0.5  # the supply fan warms the air it moves, at full speed
PLENUM_GAIN_C = 0.5  # lights warm the return air in the ceiling plenum
ZONE_CAPACITY_KJ_PER_K = 2000.0  # air, furniture and light construction of a ~60 m² office
ZONE_UA_KW_PER_K = 0.05  # envelope conductance to outdoors

FAN_TAU_S = 10.0
AIRFLOW_TAU_S = 5.0
MIXED_AIR_TAU_S = 20.0
RETURN_AIR_TAU_S = 60.0
SUPPLY_AIR_TAU_S = 120.0  # coil and duct mass
POWER_TAU_S = 5.0


def lag(value: float, target: float, tau: float, dt: float) -> float:
    """Move a first-order lag with time constant `tau` towards `target` over `dt` seconds."""
    return target + (value - target) * math.exp(-dt / tau)


def mixed_air_target(return_air: float, outdoor_air: float, damper_pct: float, fan_speed: float) -> float:
    """Outdoor air blends into the return air by the damper opening; without airflow nothing is drawn in."""
    return return_air + fan_speed * damper_pct / 100 * (outdoor_air - return_air)


def supply_air_target(
    mixed_air: float, return_air: float, heating_pct: float, cooling_pct: float, fan_speed: float
) -> float:
    """Air off the coils: cooled towards chilled, heated towards hot water; still air nears return air."""
    air = mixed_air + (CHILLED_WATER_C - mixed_air) * COOLING_COIL_EFFECTIVENESS * cooling_pct / 100
    air += (HOT_WATER_C - air) * HEATING_COIL_EFFECTIVENESS * heating_pct / 100
    air += FAN_HEAT_C * fan_speed
    return return_air + fan_speed * (air - return_air)


def zone_temp_after(
    zone_temp: float, supply_air: float, airflow: float, load_kw: float, outdoor_air: float, dt: float
) -> float:
    """A zone's heat balance over `dt`: its load, the supply air it receives and the envelope losses."""
    gain = (
        load_kw
        + airflow * AIR_KW_PER_LPS_K * (supply_air - zone_temp)
        + ZONE_UA_KW_PER_K * (outdoor_air - zone_temp)
    )
    return zone_temp + gain * dt / ZONE_CAPACITY_KJ_PER_K


def return_air_target(zone_temps: Sequence[float], airflows: Sequence[float]) -> float:
    """The zones' air mixed by airflow (evenly when no air moves), plus what the plenum adds."""
    total = sum(airflows)
    if total > 1e-6:
        mean = sum(temp * flow for temp, flow in zip(zone_temps, airflows, strict=True)) / total
    else:
        mean = sum(zone_temps) / len(zone_temps)
    return mean + PLENUM_GAIN_C


def electric_power(
    base_kw: float,
    fan_kw: float,
    fan_speed: float,
    heating_kw: float,
    heating_pct: float,
    cooling_kw: float,
    cooling_pct: float,
) -> float:
    """Site power: the base load, the fan by the cube law, and each plant in proportion to its valve."""
    return base_kw + fan_kw * fan_speed**3 + heating_kw * heating_pct / 100 + cooling_kw * cooling_pct / 100


class PiLoop:
    """A PI controller whose integral stays within the output range, so it never winds up."""

    __slots__ = ("gain", "high", "integral", "integral_time", "low")

    def __init__(self, gain: float, integral_time: float, low: float, high: float) -> None:
        self.gain = gain
        self.integral_time = integral_time
        self.low = low
        self.high = high
        self.integral = 0.0

    def update(self, error: float, dt: float) -> float:
        """Advance by `dt` with this error; return the new output."""
        self.integral = min(
            self.high, max(self.low, self.integral + self.gain * error * dt / self.integral_time)
        )
        return min(self.high, max(self.low, self.gain * error + self.integral))

    def reset(self) -> None:
        """Forget the integral (the equipment it drives has stopped)."""
        self.integral = 0.0
