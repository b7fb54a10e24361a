"""What a scenario describes: the site's equipment and a timeline of steps, as frozen data.

`scenario_loader` builds these from YAML; `simulation` replays them. Times (`at`) are seconds of
simulated time since the scenario started.
"""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from hub.points import Value


@dataclass(frozen=True)
class AhuSpec:
    """The air handler: its ids, what it does when nothing commands it, and its plant ratings."""

    id: str
    name: str = ""
    supply_air_setpoint: float = 16.0  # °C, relinquish default
    min_outdoor_air: float = 20.0  # % outdoor damper, relinquish default
    fan_kw: float = 2.2  # fan power at full speed
    heating_kw: float = 12.0  # electric power of the heating plant with the valve fully open
    cooling_kw: float = 8.0  # electric power of the chiller with the valve fully open


@dataclass(frozen=True)
class VavSpec:
    """One VAV box and the zone it serves."""

    id: str
    name: str = ""
    zone_temp: float = 21.5  # °C at the start
    zone_setpoint: float = 21.0  # °C, relinquish default
    zone_load: float = 1.0  # kW of heat into the zone (people, lights, sun)
    max_airflow: float = 300.0  # L/s with the damper fully open and the fan at full speed


@dataclass(frozen=True)
class MeterSpec:
    """The site's electricity meter."""

    id: str
    name: str = ""
    base_load: float = 3.0  # kW drawn by everything but the air handler
    energy: float = 0.0  # kWh on the register at the start


@dataclass(frozen=True)
class ChillerSpec:
    """A chiller of the cooling plant: it proves running (status) once commanded on for `start_delay`."""

    id: str
    name: str = ""
    start_delay: float = 30.0  # s of simulated time from command to status


@dataclass(frozen=True)
class SiteSpec:
    """One air handler serving VAV boxes, the meter that sees their plant, and optional chillers."""

    ahu: AhuSpec
    vavs: tuple[VavSpec, ...]
    meter: MeterSpec
    outdoor_air_temp: float = 12.0  # °C at the start
    chillers: tuple[ChillerSpec, ...] = ()


class SiteInput(StrEnum):
    """What a `set` step changes: the weather, or the heat load in one zone."""

    OUTDOOR_AIR_TEMP = "outdoor_air_temp"
    ZONE_LOAD = "zone_load"


@dataclass(frozen=True)
class SetInput:
    """Change an input of the physics (`device_id` names the VAV for a zone load)."""

    at: float
    input: SiteInput
    value: float
    device_id: str | None = None


@dataclass(frozen=True)
class FailPoint:
    """The point's sensor fails: it reads quality bad with a reason until restored."""

    at: float
    point_id: str


@dataclass(frozen=True)
class RestorePoint:
    """A failed sensor reads again."""

    at: float
    point_id: str


@dataclass(frozen=True)
class TakeOffline:
    """The device stops answering: reads and writes raise DeviceError until restored."""

    at: float
    device_id: str


@dataclass(frozen=True)
class SlowDown:
    """The device answers after `delay` seconds of wall time until restored."""

    at: float
    device_id: str
    delay: float


@dataclass(frozen=True)
class RestoreDevice:
    """An offline or slow device answers normally again."""

    at: float
    device_id: str


@dataclass(frozen=True)
class WritePoint:
    """Command a writable point at a priority, as an operator would (None relinquishes)."""

    at: float
    point_id: str
    value: Value
    priority: int


Step = SetInput | FailPoint | RestorePoint | TakeOffline | SlowDown | RestoreDevice | WritePoint


@dataclass(frozen=True)
class Scenario:
    """A site and its timeline; `steps` are sorted by time (file order within the same time)."""

    name: str
    source: Path
    site: SiteSpec
    steps: tuple[Step, ...] = ()
