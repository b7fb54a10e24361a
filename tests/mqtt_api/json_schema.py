"""The subset of JSON Schema that docs/mqtt/*.json use, checked by hand (no schema library is installed).

Keywords: type (one or a list), const, enum, required, properties, additionalProperties (false),
items, minimum, maximum, minLength, maxLength, maxItems. An unknown keyword is an error, so a
schema cannot silently use more than this checks.
"""

import json
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "mqtt"
_ANNOTATIONS = {"$schema", "$id", "title", "description"}
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
    "integer": int,
    "number": int | float,
}
KNOWN = _ANNOTATIONS | {
    "type", "const", "enum", "required", "properties", "additionalProperties", "items",
    "minimum", "maximum", "minLength", "maxLength", "maxItems",
}  # fmt: skip


def load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text())


def _is(value: Any, type_name: str) -> bool:
    if type_name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[type_name])


def problems(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """Every way `value` breaks `schema`; empty when it conforms."""
    unknown = set(schema) - KNOWN
    if unknown:
        return [f"{where}: schema uses unsupported keywords {sorted(unknown)}"]
    found: list[str] = []
    types = schema.get("type")
    if types is not None and not any(_is(value, t) for t in ([types] if isinstance(types, str) else types)):
        return [f"{where}: {value!r} is not of type {types}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{where}: {value} > {schema['maximum']}")
    length = len(value) if isinstance(value, str) else None
    if length is not None and not schema.get("minLength", 0) <= length <= schema.get("maxLength", length):
        found.append(f"{where}: length of {value!r} is out of bounds")
    if isinstance(value, list):
        if len(value) > schema.get("maxItems", len(value)):
            found.append(f"{where}: more than {schema['maxItems']} items")
        for index, item in enumerate(value):
            found += problems(item, schema.get("items", {}), f"{where}[{index}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        found += [f"{where}: missing {key!r}" for key in schema.get("required", ()) if key not in value]
        if schema.get("additionalProperties") is False:
            found += [f"{where}: unexpected {key!r}" for key in value if key not in properties]
        for key, item in value.items():
            if key in properties:
                found += problems(item, properties[key], f"{where}.{key}")
    return found
