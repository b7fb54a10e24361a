"""The shape of one point of a register map in YAML, each point checked on its own.

Cross-point checks (overlaps, names, profile references) are in `config.py`; errors here carry the
path to the offending key so the hub reports them at their file:line.
"""

import re
from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub.config import boolean, integer, number

from .model import ADDRESS_SPACE, MAX_REGISTERS, MAX_WRITE_REGISTERS, DataType, Order, Table

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_REGISTER_TYPES = [t.value for t in DataType if t != DataType.BOOL]
DEFAULT_MAX_GAP = 8


def name(value: Any) -> str:
    """A device id, point or profile name: it becomes part of point ids and MQTT topics."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise vol.Invalid("expected a name of letters, digits, '_' and '-' (at most 64, no dots)")
    return value


def choice(enum: type[Any]) -> Any:
    """One of an enum's values, said in the error."""
    allowed = [member.value for member in enum]

    def validate(value: Any) -> Any:
        if value not in allowed:
            raise vol.Invalid(f"expected one of {', '.join(allowed)}")
        return enum(value)

    return validate


def _finite(value: Any) -> float:
    return number(-1e300, 1e300)(value)


def _nonzero(value: Any) -> float:
    if _finite(value) == 0:
        raise vol.Invalid("expected a number other than 0")
    return float(value)


def _simulated(value: Any) -> Any:
    if not isinstance(value, bool | int | float | str):
        raise vol.Invalid("expected a number, true/false or a string")
    return value


ORDERS = {vol.Optional("word_order"): choice(Order), vol.Optional("byte_order"): choice(Order)}

POINT_KEYS = vol.Schema(
    {
        vol.Required("name"): name,
        vol.Optional("table"): choice(Table),
        vol.Required("address"): integer(0, ADDRESS_SPACE - 1),
        vol.Optional("type"): choice(DataType),
        vol.Optional("length"): integer(1, MAX_REGISTERS),
        vol.Optional("bit"): integer(0, 15),
        **ORDERS,
        vol.Optional("scale"): _nonzero,
        vol.Optional("offset"): _finite,
        vol.Optional("units"): str,
        vol.Optional("writable"): boolean,
        vol.Optional("min"): _finite,
        vol.Optional("max"): _finite,
        vol.Optional("simulate"): _simulated,
    }
)


def check_point(point: Mapping[str, Any]) -> Mapping[str, Any]:
    """Check what one point's keys mean together; the error points at the key to change."""
    table = point.get("table", Table.HOLDING)
    kind = point.get("type", DataType.BOOL if table.is_bits else DataType.UINT16)
    if table.is_bits and kind != DataType.BOOL:
        raise vol.Invalid(f"expected bool (a {table} holds one bit)", ["type"])
    if not table.is_bits and kind == DataType.BOOL:
        raise vol.Invalid(f"expected one of {', '.join(_REGISTER_TYPES)} (use bit with bit: N)", ["type"])
    if kind == DataType.BIT and "bit" not in point:
        raise vol.Invalid("required key not provided", ["bit"])
    if "bit" in point and kind != DataType.BIT:
        raise vol.Invalid("only a point of type bit has a bit", ["bit"])
    if kind == DataType.STRING and "length" not in point:
        raise vol.Invalid("required key not provided", ["length"])
    if "length" in point and kind != DataType.STRING:
        raise vol.Invalid("only a string has a length (other types know their size)", ["length"])
    count = point.get("length", 1) if kind == DataType.STRING else kind.registers
    if point["address"] + count > ADDRESS_SPACE:
        raise vol.Invalid(
            f"expected an address at most {ADDRESS_SPACE - count} ({kind} takes {count})", ["address"]
        )
    for key in ("scale", "offset", "min", "max"):
        if key in point and kind in _NOT_NUMERIC:
            raise vol.Invalid(f"a {kind} point has no {key}", [key])
    if point.get("writable") and count > MAX_WRITE_REGISTERS:
        raise vol.Invalid(
            f"expected at most {MAX_WRITE_REGISTERS} for a writable point (one request)", ["length"]
        )
    if point.get("writable") and not table.is_writable:
        raise vol.Invalid(f"{table} is read-only (only holding and coil are writable)", ["writable"])
    if "min" in point and "max" in point and point["min"] > point["max"]:
        raise vol.Invalid(f"expected max >= min ({point['min']})", ["max"])
    return {**point, "table": table, "type": kind}


_NOT_NUMERIC = (DataType.BIT, DataType.BOOL, DataType.STRING)

POINT_SCHEMA = vol.All(POINT_KEYS, check_point)
