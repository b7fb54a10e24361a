"""The points each kind of simulated equipment offers, and the Device and Point objects built from them.

Point ids are `"{device}.{name}"`; the names below are fixed because tests and flows are written
against them (docs/simulator.md lists them).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from hub.integration import DiscoveredDevice
from hub.points import Device, Limits, Point, PointKind

from .scenario import SiteSpec

DOMAIN = "simulator"
VENDOR = "BMS Hub simulator"


class AhuPoint(StrEnum):
    OUTDOOR_AIR_TEMP = "outdoor_air_temp"
    RETURN_AIR_TEMP = "return_air_temp"
    MIXED_AIR_TEMP = "mixed_air_temp"
    SUPPLY_AIR_TEMP = "supply_air_temp"
    SUPPLY_AIRFLOW = "supply_airflow"
    SUPPLY_AIR_SETPOINT = "supply_air_setpoint"
    FAN_COMMAND = "fan_command"
    FAN_STATUS = "fan_status"
    OUTDOOR_DAMPER_COMMAND = "outdoor_damper_command"
    HEATING_VALVE_COMMAND = "heating_valve_command"
    COOLING_VALVE_COMMAND = "cooling_valve_command"


class VavPoint(StrEnum):
    ZONE_TEMP = "zone_temp"
    ZONE_SETPOINT = "zone_setpoint"
    AIRFLOW = "airflow"
    DAMPER_COMMAND = "damper_command"
    OCCUPANCY_MODE = "occupancy_mode"


class MeterPoint(StrEnum):
    POWER_KW = "power_kw"
    ENERGY_KWH = "energy_kwh"


class ChillerPoint(StrEnum):
    COMMAND = "command"
    STATUS = "status"


class OccupancyMode(IntEnum):
    """The states of a VAV's occupancy_mode point, numbered as BACnet multistate values are (from 1)."""

    OCCUPIED = 1
    UNOCCUPIED = 2
    STANDBY = 3


@dataclass(frozen=True)
class PointTemplate:
    """How one named point of an equipment kind looks to the hub."""

    kind: PointKind = PointKind.ANALOG
    units: str = ""
    writable: bool = False
    limits: Limits = field(default_factory=Limits)
    cov_increment: float | None = None


_TEMPERATURE = PointTemplate(units="°C", cov_increment=0.1)
_PERCENT_COMMAND = PointTemplate(units="%", writable=True, limits=Limits(0, 100), cov_increment=1.0)
_BINARY_COMMAND = PointTemplate(PointKind.BINARY, writable=True)

AHU_POINTS: Mapping[AhuPoint, PointTemplate] = {
    AhuPoint.OUTDOOR_AIR_TEMP: _TEMPERATURE,
    AhuPoint.RETURN_AIR_TEMP: _TEMPERATURE,
    AhuPoint.MIXED_AIR_TEMP: _TEMPERATURE,
    AhuPoint.SUPPLY_AIR_TEMP: _TEMPERATURE,
    AhuPoint.SUPPLY_AIRFLOW: PointTemplate(units="L/s", cov_increment=10.0),
    AhuPoint.SUPPLY_AIR_SETPOINT: PointTemplate(
        units="°C", writable=True, limits=Limits(10, 30), cov_increment=0.1
    ),
    AhuPoint.FAN_COMMAND: _BINARY_COMMAND,
    AhuPoint.FAN_STATUS: PointTemplate(PointKind.BINARY),
    AhuPoint.OUTDOOR_DAMPER_COMMAND: _PERCENT_COMMAND,
    AhuPoint.HEATING_VALVE_COMMAND: _PERCENT_COMMAND,
    AhuPoint.COOLING_VALVE_COMMAND: _PERCENT_COMMAND,
}
VAV_POINTS: Mapping[VavPoint, PointTemplate] = {
    VavPoint.ZONE_TEMP: _TEMPERATURE,
    VavPoint.ZONE_SETPOINT: PointTemplate(
        units="°C", writable=True, limits=Limits(15, 30), cov_increment=0.1
    ),
    VavPoint.AIRFLOW: PointTemplate(units="L/s", cov_increment=5.0),
    VavPoint.DAMPER_COMMAND: _PERCENT_COMMAND,
    VavPoint.OCCUPANCY_MODE: PointTemplate(
        PointKind.MULTISTATE, writable=True, limits=Limits(states=tuple(OccupancyMode))
    ),
}
METER_POINTS: Mapping[MeterPoint, PointTemplate] = {
    MeterPoint.POWER_KW: PointTemplate(units="kW", cov_increment=0.1),
    MeterPoint.ENERGY_KWH: PointTemplate(units="kWh", cov_increment=0.1),
}

CHILLER_POINTS: Mapping[ChillerPoint, PointTemplate] = {
    ChillerPoint.COMMAND: _BINARY_COMMAND,
    ChillerPoint.STATUS: PointTemplate(PointKind.BINARY),
}


def point_id(device_id: str, name: str) -> str:
    """The hub-wide id of a simulated point."""
    return f"{device_id}.{name}"


def make_point(device_id: str, name: str, template: PointTemplate) -> Point:
    """A Point of a simulated device from its template."""
    return Point(
        point_id(device_id, name),
        device_id,
        name,
        template.kind,
        units=template.units,
        writable=template.writable,
        limits=template.limits,
        cov_increment=template.cov_increment,
        address=name,
    )


def make_device(device_id: str, name: str, model: str, poll_interval: float) -> Device:
    """A Device of this integration."""
    return Device(
        device_id,
        name or device_id,
        DOMAIN,
        address=f"sim://{device_id}",
        vendor=VENDOR,
        model=model,
        poll_interval=poll_interval,
    )


def site_devices(site: SiteSpec, poll_interval: float = 5.0) -> tuple[DiscoveredDevice, ...]:
    """Every device of the site with its points: air handler, VAVs, meter, then any chillers."""
    ahu, meter = site.ahu, site.meter

    def build(
        device_id: str, name: str, model: str, templates: Mapping[str, PointTemplate]
    ) -> DiscoveredDevice:
        points = tuple(make_point(device_id, key, template) for key, template in templates.items())
        return DiscoveredDevice(make_device(device_id, name, model, poll_interval), points)

    return (
        build(ahu.id, ahu.name, "Simulated air handling unit", AHU_POINTS),
        *(build(vav.id, vav.name, "Simulated VAV box", VAV_POINTS) for vav in site.vavs),
        build(meter.id, meter.name, "Simulated electricity meter", METER_POINTS),
        *(build(chiller.id, chiller.name, "Simulated chiller", CHILLER_POINTS) for chiller in site.chillers),
    )
