"""The simulator integration's site model served over BACnet: `bms-hub simulate bacnet --scenario demo`.

Each device of the scenario (air handler, VAV boxes, meter) becomes a BACnet device; each point an
object named after it (description: the hub's point id). Read-only points are inputs the model
updates every tick; writable ones are commandable values (multi-state: outputs) whose writes also
command the model at the same priority, so a write has its physical effect (stop the fan and the
supply air drifts). A write the model refuses (outside the point's limits or states) is refused
with value-out-of-range.
"""

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from bacpypes3.errors import PropertyError
from bacpypes3.local.analog import AnalogInputObject, AnalogValueObjectCmd
from bacpypes3.local.binary import BinaryInputObject, BinaryValueObjectCmd
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.multistate import MultiStateInputObject, MultiStateOutputObject
from bacpypes3.local.object import Object
from bacpypes3.primitivedata import Null

from hub.integration import DeviceError, WriteError
from hub.points import Point, PointKind, Value
from integrations.simulator.scenario_loader import open_scenario
from integrations.simulator.simulation import Simulation

from .codec import to_value
from .network import VENDOR_ID

UNITS = {
    "°C": "degreesCelsius",
    "%": "percent",
    "L/s": "litersPerSecond",
    "kW": "kilowatts",
    "kWh": "kilowattHours",
}
_COMMON = {"statusFlags": [0, 0, 0, 0], "eventState": "normal", "outOfService": False}
Command = Callable[[Value, int], None]


class _Commands:
    """Mixin: a write at a priority also commands the model; a refusal is value-out-of-range."""

    _command: Command

    async def write_property(self, attr: Any, value: Any, index: Any = None, priority: Any = None) -> None:
        name = attr if isinstance(attr, str) else self._property_identifier_class(attr).attr  # type: ignore[attr-defined]
        if name == "presentValue":
            try:
                self._command(None if isinstance(value, Null) else to_value(value), priority or 16)
            except WriteError:
                raise PropertyError("valueOutOfRange") from None
        await super().write_property(attr, value, index, priority)  # type: ignore[misc]


class SiteAnalogValue(_Commands, AnalogValueObjectCmd):
    """A writable analog point of the model."""


class SiteBinaryValue(_Commands, BinaryValueObjectCmd):
    """A writable binary point of the model."""


class SiteMultiStateOutput(_Commands, MultiStateOutputObject):
    """A writable multi-state point of the model."""


def _bacnet(kind: PointKind, value: Value) -> Any:
    if kind == PointKind.BINARY:
        return "active" if value else "inactive"
    if kind == PointKind.MULTISTATE:
        return int(value or 1)
    return float(value or 0.0)


def site_objects(
    simulation: Simulation, first_instance: int
) -> list[tuple[DeviceObject, list[Object], dict[str, Object]]]:
    """Per simulated device: its device object, its objects, and the read-only ones by point id."""
    out = []
    samples = {}
    for found in simulation.devices:
        with contextlib.suppress(DeviceError):  # offline at the start: default values
            samples.update(simulation.read(found.points, time.time()))
    for number, found in enumerate(simulation.devices):
        device = DeviceObject(
            objectIdentifier=("device", first_instance + number),
            objectName=found.device.name,
            vendorIdentifier=VENDOR_ID,
            vendorName="BMS Hub",
            modelName=f"bms-hub simulate bacnet --scenario ({found.device.id})",
            description=found.device.id,
        )
        objects: list[Object] = []
        inputs: dict[str, Object] = {}
        counters: dict[tuple[PointKind, bool], int] = {}
        for point in found.points:
            key = (point.kind, point.writable)  # each object type numbers its objects from 1
            counters[key] = counters.get(key, 0) + 1
            sample = samples.get(point.id)
            value = _bacnet(point.kind, sample.value if sample is not None else None)
            obj = _object(point, counters[key], value, simulation)
            if obj is None:
                continue
            objects.append(obj)
            if not point.writable:
                inputs[point.id] = obj
        out.append((device, objects, inputs))
    return out


def _object(point: Point, instance: int, value: Any, simulation: Simulation) -> Object | None:
    """The BACnet object that serves `point` (None for string points, which the model has none of)."""
    common = {"objectName": point.name, "description": point.id, "presentValue": value, **_COMMON}
    if point.kind == PointKind.ANALOG:
        units = {"units": UNITS.get(point.units, "noUnits")}
        if point.writable:
            obj: Object = SiteAnalogValue(
                objectIdentifier=("analog-value", instance), relinquishDefault=value, **units, **common
            )
        else:
            return AnalogInputObject(objectIdentifier=("analog-input", instance), **units, **common)
    elif point.kind == PointKind.BINARY:
        if not point.writable:
            return BinaryInputObject(objectIdentifier=("binary-input", instance), polarity="normal", **common)
        obj = SiteBinaryValue(objectIdentifier=("binary-value", instance), relinquishDefault=value, **common)
    elif point.kind == PointKind.MULTISTATE:
        states = {"numberOfStates": max(point.limits.states or (value,))}
        if not point.writable:
            return MultiStateInputObject(objectIdentifier=("multi-state-input", instance), **states, **common)
        obj = SiteMultiStateOutput(
            objectIdentifier=("multi-state-output", instance), relinquishDefault=value, **states, **common
        )
    else:
        return None
    obj._command = lambda new, priority, p=point: simulation.write(p, new, priority)  # type: ignore[attr-defined]
    return obj


async def run_model(
    simulation: Simulation, inputs: dict[str, Object], time_scale: float, tick: float
) -> None:
    """Advance the model with wall time (times `time_scale`) and copy its readings into the input objects."""
    started = time.monotonic()
    by_device: dict[str, list[Point]] = {}
    for point_id in inputs:
        point = simulation.points[point_id]
        by_device.setdefault(point.device_id, []).append(point)
    while True:
        simulation.advance_to((time.monotonic() - started) * time_scale)
        now = time.time()
        for points in by_device.values():
            try:
                samples = simulation.read(points, now)
            except DeviceError:
                continue  # offline in the scenario: its objects keep their last values
            for point in points:
                value = samples[point.id].value
                if value is not None:
                    inputs[point.id].presentValue = _bacnet(point.kind, value)
        await asyncio.sleep(tick)


def load(scenario: str, seed: int) -> Simulation:
    """The scenario (a built-in name or a YAML file, from the working folder) as a simulation."""
    return Simulation(open_scenario(scenario), seed)
