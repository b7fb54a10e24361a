"""The designer's palette: each node type's name, category, description, ports and parameters as JSON."""

from collections.abc import Callable
from enum import Enum
from typing import Any

import voluptuous as vol

from hub.flows.node import Node, NodeRegistry, Port

_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean", dict: "object", list: "array"}


def palette(registry: NodeRegistry) -> list[dict[str, Any]]:
    """Every node type, in palette order."""
    return [node_type_json(node_type, registry.owner(node_type.TYPE)) for node_type in registry]


def node_type_json(node_type: type[Node], owner: str) -> dict[str, Any]:
    return {
        "type": node_type.TYPE,
        "category": str(node_type.CATEGORY),
        "description": node_type.DESCRIPTION,
        "owner": owner,
        "inputs": [_port(port) for port in node_type.INPUTS],
        "outputs": [_port(port) for port in node_type.OUTPUTS],
        "breaks_cycles": node_type.BREAKS_CYCLES,
        "point_parameters": list(node_type.POINT_PARAMS),
        "write_parameters": list(node_type.WRITE_PARAMS),
        "parameters": _parameters(node_type.SCHEMA.schema),
    }


def _port(port: Port) -> dict[str, str]:
    return {"name": port.name, "type": str(port.type), "description": port.description}


def _parameters(schema: Any) -> list[dict[str, Any]]:
    """One entry per key of a mapping schema: name, required, default, description and what it takes."""
    if isinstance(schema, vol.Schema):
        return _parameters(schema.schema)
    if isinstance(schema, vol.All):  # a mapping followed by checks across its keys
        return next((found for item in schema.validators if (found := _parameters(item))), [])
    if not isinstance(schema, dict):
        return []
    found = []
    for key, validator in schema.items():
        entry: dict[str, Any] = {"name": str(key), "required": isinstance(key, vol.Required)}
        if isinstance(key, vol.Marker):
            if key.description:
                entry["description"] = key.description
            default = getattr(key, "default", vol.UNDEFINED)
            if default is not vol.UNDEFINED:
                value = default() if callable(default) else default
                if value is None or isinstance(value, bool | int | float | str | list | dict):
                    entry["default"] = value
        entry.update(describe(validator))
        found.append(entry)
    return found


def describe(validator: Any) -> dict[str, Any]:
    """What a voluptuous validator accepts, as JSON-schema-like keys (best effort)."""
    if isinstance(validator, vol.Schema):
        return describe(validator.schema)
    if isinstance(validator, type) and issubclass(validator, Enum):
        return {"type": "string", "enum": [str(member.value) for member in validator]}
    if isinstance(validator, type):
        return {"type": _TYPES.get(validator, validator.__name__)}
    if isinstance(validator, dict):
        return {"type": "object", "properties": _parameters(validator)}
    if isinstance(validator, list):
        return {"type": "array", "items": [describe(item) for item in validator]}
    if isinstance(validator, vol.In):
        return {"enum": sorted(validator.container, key=str)}
    if isinstance(validator, vol.Coerce):
        if issubclass(validator.type, Enum):
            return describe(validator.type)
        return {"type": _TYPES.get(validator.type, validator.type_name)}
    if isinstance(validator, vol.Range):
        return {k: v for k, v in (("minimum", validator.min), ("maximum", validator.max)) if v is not None}
    if isinstance(validator, vol.Any):
        return {"any_of": [describe(item) for item in validator.validators]}
    if isinstance(validator, vol.All):
        merged: dict[str, Any] = {}
        for item in validator.validators:
            merged.update(describe(item))
        return merged
    if validator is None or isinstance(validator, bool | int | float | str):
        return {"const": validator}
    return _named(validator)


def _named(validator: Callable[..., Any]) -> dict[str, Any]:
    """A plain function: its name, and the first line of its docstring."""
    name = getattr(validator, "__name__", type(validator).__name__)
    doc = (getattr(validator, "__doc__", None) or "").strip().splitlines()
    return {"format": name, **({"accepts": doc[0]} if doc and name != "<lambda>" else {})}
