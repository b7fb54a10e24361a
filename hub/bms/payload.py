"""The reading contract (docs/bms/reading.schema.json): one reading or a batch, checked before use.

A message is taken whole or not at all: one bad reading in a batch drops the batch, with a reason
that names the field (`readings[3].timestamp: ...`), so the BMS side can be fixed.
"""

import json
import math
from datetime import datetime
from typing import Any

import voluptuous as vol

from hub.bms.model import Reading

MAX_BATCH = 1000
MAX_ID_LENGTH = 200
MAX_UNIT_LENGTH = 32
_FIELDS = frozenset(("point_id", "value", "unit", "timestamp", "test"))
_MS_EPOCH_ABOVE = 1e11  # a number this large is epoch milliseconds (1e11 s is the year 5138)


class PayloadError(ValueError):
    """Why a message breaks the contract; the text goes to the activity log."""


def _timestamp(value: object) -> float:
    if isinstance(value, bool):
        raise vol.Invalid("expected an ISO 8601 time with a UTC offset, or epoch seconds")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise vol.Invalid("expected a finite, non-negative epoch time")
        return value / 1000 if value > _MS_EPOCH_ABOVE else float(value)
    if not isinstance(value, str):
        raise vol.Invalid("expected an ISO 8601 time with a UTC offset, or epoch seconds")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise vol.Invalid(f"expected an ISO 8601 time such as 2026-03-01T12:00:00Z, got {value!r}") from None
    if parsed.tzinfo is None:
        raise vol.Invalid(f"{value!r} has no UTC offset: add Z or +hh:mm")
    return parsed.timestamp()


def _value(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise vol.Invalid("expected a number, true/false, a string or null")


_TEXT_ID = vol.All(str, vol.Length(min=1, max=MAX_ID_LENGTH, msg=f"expected 1 to {MAX_ID_LENGTH} characters"))
_READING = vol.Schema(
    {
        vol.Required("point_id"): _TEXT_ID,
        vol.Required("value"): _value,
        vol.Optional("unit", default=""): vol.All(str, vol.Length(max=MAX_UNIT_LENGTH)),
        vol.Required("timestamp"): _timestamp,
        vol.Optional("test", default=False): bool,
    }
)
_BATCH = vol.Schema(
    {
        vol.Required("readings"): vol.All(
            [_READING], vol.Length(min=1, max=MAX_BATCH, msg=f"expected 1 to {MAX_BATCH} readings")
        )
    }
)


def _no_constant(name: str) -> Any:
    raise PayloadError(f"invalid JSON: {name} is not a JSON number")


def parse(payload: bytes) -> tuple[Reading, ...]:
    """The readings of one message; PayloadError says what is wrong with it."""
    try:
        data = json.loads(payload, parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PayloadError(f"invalid JSON: {err}") from None
    if not isinstance(data, dict):
        raise PayloadError('expected a JSON object: one reading or {"readings": [...]}')
    if (readings := _plain(data)) is not None:
        return readings
    schema = _BATCH if "readings" in data else _READING
    try:
        checked = schema(data)
    except vol.Invalid as err:
        raise PayloadError(_describe(err)) from None
    items = checked.get("readings", [checked])
    return tuple(
        Reading(item["point_id"], item["value"], item["unit"], item["timestamp"], item["test"])
        for item in items
    )


def _plain(data: dict[str, Any]) -> tuple[Reading, ...] | None:
    """What the schema would make of a plainly valid message, without it (voluptuous costs ~50 µs a reading).

    None for anything unusual: the schema then checks the message and says what is wrong.
    """
    items = [data]
    if "readings" in data:
        items = data["readings"]
        if len(data) != 1 or items.__class__ is not list or not 0 < len(items) <= MAX_BATCH:
            return None
    readings = []
    for item in items:
        if item.__class__ is not dict or not item.keys() <= _FIELDS or "value" not in item:
            return None
        point_id, unit, test = item.get("point_id"), item.get("unit", ""), item.get("test", False)
        if point_id.__class__ is not str or unit.__class__ is not str or test.__class__ is not bool:
            return None
        if not 0 < len(point_id) <= MAX_ID_LENGTH or len(unit) > MAX_UNIT_LENGTH or "timestamp" not in item:
            return None
        try:
            readings.append(
                Reading(point_id, _value(item["value"]), unit, _timestamp(item["timestamp"]), test)
            )
        except vol.Invalid:
            return None
    return tuple(readings)


def _describe(err: vol.Invalid) -> str:
    errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
    parts = []
    for error in errors[:3]:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path).lstrip(".")
        message = {"extra keys not allowed": "unknown field", "required key not provided": "required"}.get(
            error.msg, error.msg
        )
        parts.append(f"{where or 'message'}: {message}")
    return "; ".join(parts)
