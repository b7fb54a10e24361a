"""A mapping made or changed on request (REST or a page form): its target point, units and unit check.

One place decides what "map this external id" means, so the API and the BMS page cannot drift.
"""

from dataclasses import replace

from hub.bms.mapping import point_name
from hub.bms.model import Connection, Mapping, Unmapped
from hub.bms.units import conversion_problem
from hub.points import Point, PointKind


class MappingProblem(ValueError):
    """A mapping that cannot be made as asked; the message names the field."""


def new_mapping(
    connection: Connection,
    external_id: str,
    seen: Unmapped | None,
    *,
    existing: Point | None = None,
    name: str | None = None,
    units: str | None = None,
    kind: PointKind | None = None,
    source_unit: str | None = None,
) -> Mapping:
    """Feed `existing`, or a new point (named after the id, in the unit last sent, by default)."""
    source = source_unit if source_unit is not None else (seen.last_unit if seen else "")
    if existing is not None:
        name, units, kind = existing.name, existing.units, existing.kind
        point_id, created = existing.id, False
    else:
        name = name or point_name(external_id)
        units = source if units is None else units
        kind = kind or kind_of(seen)
        point_id, created = f"{connection.device_id}.{name}", True
    check_units(source, units)
    return Mapping(0, connection.id, external_id, point_id, source, created, name, units, kind)


def changed_mapping(
    mapping: Mapping,
    *,
    source_unit: str | None = None,
    units: str | None = None,
    existing: Point | None = None,
) -> Mapping:
    """Another source unit, a created point's units, or another existing point for an attached mapping."""
    if existing is not None and mapping.created_point:
        raise MappingProblem("point_id: a created point cannot be swapped; delete it")
    if units is not None and not mapping.created_point:
        raise MappingProblem("units: only a created point's units can be changed here")
    changed = replace(
        mapping,
        source_unit=mapping.source_unit if source_unit is None else source_unit,
        point_units=mapping.point_units if units is None else units,
    )
    if existing is not None:
        changed = replace(changed, point_id=existing.id, point_name=existing.name, point_units=existing.units)
    check_units(changed.source_unit, changed.point_units)
    return changed


def check_units(source: str, target: str) -> None:
    problem = conversion_problem(source, target)
    if problem is not None:
        raise MappingProblem(f"units: {problem}")


def kind_of(seen: Unmapped | None) -> PointKind:
    """The kind of point the values sent so far call for (analog when nothing was seen)."""
    if seen is None:
        return PointKind.ANALOG
    if isinstance(seen.last_value, bool):
        return PointKind.BINARY
    return PointKind.STRING if isinstance(seen.last_value, str) else PointKind.ANALOG
