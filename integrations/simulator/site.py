"""The simulated site's state, advanced one fixed step of simulated time at a time.

Each step moves the physics (hub-independent functions in `physics`), runs the equipment's own
control loops (which set the relinquish defaults of the valve and damper commands: what a real
controller does when nothing overrides it) and takes fresh sensor readings, with noise drawn from
the model's own seeded random generator. Everything depends only on the spec, the seed, the steps
taken and the commands written, never on wall time or on how often the site is read.
"""

import random

from hub.points import Value

from . import physics
from .equipment import AhuPoint, ChillerPoint, MeterPoint, OccupancyMode, VavPoint, point_id
from .priority import PriorityArray
from .scenario import ChillerSpec, SiteInput, SiteSpec, VavSpec

STEP_S = 1  # seconds of simulated time per step
MIN_DAMPER_OCCUPIED = 20.0  # % of a VAV's airflow kept for ventilation while occupied
STANDBY_SETBACK_C = 2.0  # a zone in standby lets its temperature rise this much above setpoint
TEMP_NOISE_C = 0.05
OUTDOOR_NOISE_C = 0.1
AIRFLOW_NOISE_LPS = 2.0
POWER_NOISE_KW = 0.05


class _Vav:
    """One VAV box and its zone."""

    def __init__(self, spec: VavSpec, fan_speed: float, arrays: dict[str, PriorityArray]) -> None:
        self.spec = spec
        self.load = spec.zone_load
        self.zone_temp = spec.zone_temp
        self.airflow = spec.max_airflow * MIN_DAMPER_OCCUPIED / 100 * fan_speed
        self.loop = physics.PiLoop(gain=40.0, integral_time=900.0, low=0.0, high=100.0)
        self.setpoint = arrays[point_id(spec.id, VavPoint.ZONE_SETPOINT)] = PriorityArray(spec.zone_setpoint)
        self.damper = arrays[point_id(spec.id, VavPoint.DAMPER_COMMAND)] = PriorityArray(MIN_DAMPER_OCCUPIED)
        self.mode = arrays[point_id(spec.id, VavPoint.OCCUPANCY_MODE)] = PriorityArray(
            OccupancyMode.OCCUPIED.value
        )
        self.temp_id = point_id(spec.id, VavPoint.ZONE_TEMP)
        self.airflow_id = point_id(spec.id, VavPoint.AIRFLOW)

    def step(self, supply_air: float, fan_speed: float, outdoor_air: float) -> None:
        """Run the damper loop, then move the airflow and the zone temperature one step."""
        mode = self.mode.effective
        if mode == OccupancyMode.UNOCCUPIED:
            self.loop.reset()
            auto = 0.0
        else:
            setback = STANDBY_SETBACK_C if mode == OccupancyMode.STANDBY else 0.0
            minimum = MIN_DAMPER_OCCUPIED if mode == OccupancyMode.OCCUPIED else 0.0
            error = self.zone_temp - (float(self.setpoint.effective) + setback)  # type: ignore[arg-type]
            auto = max(minimum, self.loop.update(error, STEP_S))
        self.damper.relinquish_default = round(auto, 1)
        damper = float(self.damper.effective)  # type: ignore[arg-type]
        target = self.spec.max_airflow * damper / 100 * fan_speed
        self.airflow = physics.lag(self.airflow, target, physics.AIRFLOW_TAU_S, STEP_S)
        self.zone_temp = physics.zone_temp_after(
            self.zone_temp, supply_air, self.airflow, self.load, outdoor_air, STEP_S
        )


class _Chiller:
    """A chiller: proves running once its command has been on for its start delay; stops at once."""

    def __init__(self, spec: ChillerSpec, arrays: dict[str, PriorityArray]) -> None:
        self.start_delay = spec.start_delay
        self.command = arrays[point_id(spec.id, ChillerPoint.COMMAND)] = PriorityArray(False)
        self.status_id = point_id(spec.id, ChillerPoint.STATUS)
        self.on_for = 0.0
        self.running = False

    def step(self) -> None:
        self.on_for = self.on_for + STEP_S if self.command.effective else 0.0
        self.running = self.on_for > 0 and self.on_for >= self.start_delay


class SiteModel:
    """State, command priority arrays and sensor readings of one air handler, its VAVs and the meter."""

    def __init__(self, site: SiteSpec, seed: int) -> None:
        self.site = site
        self.time = 0  # seconds of simulated time since the scenario started
        self._rng = random.Random(seed)
        self.outdoor_air_temp = site.outdoor_air_temp
        self.arrays: dict[str, PriorityArray] = {}
        self.readings: dict[str, Value] = {}
        ahu = site.ahu
        arrays = self.arrays
        self._ahu_ids = {name: point_id(ahu.id, name) for name in AhuPoint}
        self._meter_ids = {name: point_id(site.meter.id, name) for name in MeterPoint}
        self._setpoint = arrays[self._ahu_ids[AhuPoint.SUPPLY_AIR_SETPOINT]] = PriorityArray(
            ahu.supply_air_setpoint
        )
        self._fan = arrays[self._ahu_ids[AhuPoint.FAN_COMMAND]] = PriorityArray(True)
        self._damper = arrays[self._ahu_ids[AhuPoint.OUTDOOR_DAMPER_COMMAND]] = PriorityArray(
            ahu.min_outdoor_air
        )
        self._heating = arrays[self._ahu_ids[AhuPoint.HEATING_VALVE_COMMAND]] = PriorityArray(0.0)
        self._cooling = arrays[self._ahu_ids[AhuPoint.COOLING_VALVE_COMMAND]] = PriorityArray(0.0)
        self._coil_loop = physics.PiLoop(gain=8.0, integral_time=120.0, low=-100.0, high=100.0)
        self.fan_speed = 1.0
        self.vavs = {spec.id: _Vav(spec, self.fan_speed, arrays) for spec in site.vavs}
        self.chillers = [_Chiller(spec, arrays) for spec in site.chillers]
        self.return_air_temp = self._return_air_target()
        self.mixed_air_temp = physics.mixed_air_target(
            self.return_air_temp, self.outdoor_air_temp, ahu.min_outdoor_air, self.fan_speed
        )
        self.supply_air_temp = ahu.supply_air_setpoint
        self.power_kw = self._power_target()
        self.energy_kwh = site.meter.energy
        self.take_readings()

    def set_input(self, which: SiteInput, value: float, device_id: str | None = None) -> None:
        """Change the weather or a zone's heat load (a scenario `set` step)."""
        if which == SiteInput.OUTDOOR_AIR_TEMP:
            self.outdoor_air_temp = value
            return
        vav = self.vavs.get(device_id or "")
        if vav is None:
            raise ValueError(f"{which} needs a VAV of the site, not {device_id!r}")
        vav.load = value

    def value(self, point_id: str) -> Value:
        """What reading the point answers now: a command's effective value, or the sensor's reading."""
        array = self.arrays.get(point_id)
        return array.effective if array is not None else self.readings[point_id]

    def step(self) -> None:
        """Advance the site by STEP_S seconds and take new readings."""
        fan_on = bool(self._fan.effective)
        self.fan_speed = physics.lag(self.fan_speed, 1.0 if fan_on else 0.0, physics.FAN_TAU_S, STEP_S)
        speed = self.fan_speed
        for vav in self.vavs.values():
            vav.step(self.supply_air_temp, speed, self.outdoor_air_temp)
        self.return_air_temp = physics.lag(
            self.return_air_temp, self._return_air_target(), physics.RETURN_AIR_TAU_S, STEP_S
        )
        damper = float(self._damper.effective)  # type: ignore[arg-type]
        mixed = physics.mixed_air_target(self.return_air_temp, self.outdoor_air_temp, damper, speed)
        self.mixed_air_temp = physics.lag(self.mixed_air_temp, mixed, physics.MIXED_AIR_TAU_S, STEP_S)
        self._run_coil_loop(fan_on)
        supply = physics.supply_air_target(
            self.mixed_air_temp,
            self.return_air_temp,
            float(self._heating.effective),  # type: ignore[arg-type]
            float(self._cooling.effective),  # type: ignore[arg-type]
            speed,
        )
        self.supply_air_temp = physics.lag(self.supply_air_temp, supply, physics.SUPPLY_AIR_TAU_S, STEP_S)
        self.power_kw = physics.lag(self.power_kw, self._power_target(), physics.POWER_TAU_S, STEP_S)
        self.energy_kwh += self.power_kw * STEP_S / 3600
        for chiller in self.chillers:
            chiller.step()
        self.time += STEP_S
        self.take_readings()

    def _run_coil_loop(self, fan_on: bool) -> None:
        """The air handler's own supply-air loop: positive output heats, negative cools; off with the fan."""
        if fan_on:
            error = float(self._setpoint.effective) - self.supply_air_temp  # type: ignore[arg-type]
            output = self._coil_loop.update(error, STEP_S)
        else:
            self._coil_loop.reset()
            output = 0.0
        self._heating.relinquish_default = round(max(0.0, output), 1)
        self._cooling.relinquish_default = round(max(0.0, -output), 1)

    def _return_air_target(self) -> float:
        vavs = self.vavs.values()
        return physics.return_air_target([v.zone_temp for v in vavs], [v.airflow for v in vavs])

    def _power_target(self) -> float:
        ahu = self.site.ahu
        return physics.electric_power(
            self.site.meter.base_load,
            ahu.fan_kw,
            self.fan_speed,
            ahu.heating_kw,
            float(self._heating.effective),  # type: ignore[arg-type]
            ahu.cooling_kw,
            float(self._cooling.effective),  # type: ignore[arg-type]
        )

    def take_readings(self) -> None:
        """Read every sensor: the true value plus noise, rounded to what a real sensor reports."""
        noise = self._rng.gauss
        readings = self.readings
        ahu, meter = self._ahu_ids, self._meter_ids
        readings[ahu[AhuPoint.OUTDOOR_AIR_TEMP]] = round(self.outdoor_air_temp + noise(0, OUTDOOR_NOISE_C), 2)
        for name, temp in (
            (AhuPoint.RETURN_AIR_TEMP, self.return_air_temp),
            (AhuPoint.MIXED_AIR_TEMP, self.mixed_air_temp),
            (AhuPoint.SUPPLY_AIR_TEMP, self.supply_air_temp),
        ):
            readings[ahu[name]] = round(temp + noise(0, TEMP_NOISE_C), 2)
        total_airflow = 0.0
        for vav in self.vavs.values():
            total_airflow += vav.airflow
            readings[vav.temp_id] = round(vav.zone_temp + noise(0, TEMP_NOISE_C), 2)
            readings[vav.airflow_id] = round(max(0.0, vav.airflow + noise(0, AIRFLOW_NOISE_LPS)), 1)
        readings[ahu[AhuPoint.SUPPLY_AIRFLOW]] = round(
            max(0.0, total_airflow + noise(0, AIRFLOW_NOISE_LPS)), 1
        )
        readings[ahu[AhuPoint.FAN_STATUS]] = self.fan_speed > 0.5
        readings[meter[MeterPoint.POWER_KW]] = round(max(0.0, self.power_kw + noise(0, POWER_NOISE_KW)), 2)
        readings[meter[MeterPoint.ENERGY_KWH]] = round(self.energy_kwh, 3)
        for chiller in self.chillers:
            readings[chiller.status_id] = chiller.running
