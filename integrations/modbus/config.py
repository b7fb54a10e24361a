"""`integrations: modbus:` — devices, their register maps and profiles, resolved into ModbusDevices.

Pass one (voluptuous) checks each key; pass two resolves profile references and checks the points of
each device together. Both raise vol.Invalid with the path of the offending key, so the hub reports
`file:line: integrations.modbus.devices.meter-1.points.3.address: ...`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from hub.config import each, integer, seconds, string

from .model import DEFAULT_PORT, MAX_BITS, ModbusDevice, RegisterPoint
from .overlaps import point_conflicts
from .profiles import PROFILE_SCHEMA, Profile, build_point, built_in_profiles, profile_problems
from .schema import DEFAULT_MAX_GAP, ORDERS, POINT_SCHEMA, name

DEFAULT_TIMEOUT_S = 3.0
DEFAULT_POLL_S = 5.0


@dataclass(frozen=True)
class ModbusConfig:
    """The validated settings: every device with its full register map."""

    devices: tuple[ModbusDevice, ...] = ()
    profiles: tuple[str, ...] = ()  # names of the profiles a device may reference


def named(schema: Callable[[Any], Any]) -> Callable[[Any], dict[str, Any]]:
    """A mapping of name -> entry; every bad name and entry is reported."""

    def validate(value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise vol.Invalid("expected a mapping of name -> settings")
        out, errors = {}, []
        for key, item in value.items():
            try:
                name(key)
            except vol.Invalid:
                errors.append(
                    vol.Invalid(f"invalid name {key!r}: use letters, digits, '_' and '-' (no dots)", [key])
                )
                continue
            try:
                out[key] = schema({} if item is None else item)
            except vol.Invalid as err:
                err.prepend([key])
                errors.extend(err.errors if isinstance(err, vol.MultipleInvalid) else [err])
        if errors:
            raise vol.MultipleInvalid(errors)
        return out

    return validate


DEVICE_SCHEMA = vol.Schema(
    {
        vol.Optional("name"): string,
        vol.Required("host"): string,
        vol.Optional("port"): integer(1, 65535),
        vol.Optional("unit"): integer(0, 255),
        vol.Optional("timeout"): seconds(0.05, 60),
        vol.Optional("poll_interval"): seconds(0.1, 86400),
        vol.Optional("max_gap"): integer(0, MAX_BITS),
        vol.Optional("profile"): name,
        **ORDERS,
        vol.Optional("points"): each(POINT_SCHEMA),
    }
)
KEYS_SCHEMA = vol.Schema(
    {
        vol.Optional("max_gap"): integer(0, MAX_BITS),
        vol.Optional("profiles"): named(PROFILE_SCHEMA),
        vol.Optional("devices"): named(DEVICE_SCHEMA),
    }
)


def resolve(valid: Mapping[str, Any]) -> ModbusConfig:
    """Resolve profiles and check each device's points together; raise every problem with its path."""
    profiles = dict(built_in_profiles())
    errors: list[vol.Invalid] = []
    for profile_name, entry in valid.get("profiles", {}).items():
        errors += profile_problems(entry["points"], ["profiles", profile_name, "points"])
        profiles[profile_name] = Profile.from_validated(profile_name, entry)
    devices = []
    for device_id, entry in valid.get("devices", {}).items():
        try:
            devices.append(_device(device_id, entry, profiles, valid.get("max_gap", DEFAULT_MAX_GAP)))
        except vol.MultipleInvalid as err:
            errors += [_prefixed(e, ["devices", device_id]) for e in err.errors]
    if errors:
        raise vol.MultipleInvalid(errors)
    return ModbusConfig(tuple(devices), tuple(sorted(profiles)))


def _prefixed(error: vol.Invalid, prefix: list[Any]) -> vol.Invalid:
    error.prepend(prefix)
    return error


def _device(
    device_id: str, entry: Mapping[str, Any], profiles: Mapping[str, Profile], max_gap: int
) -> ModbusDevice:
    word, byte = entry.get("word_order"), entry.get("byte_order")
    inherited: tuple[RegisterPoint, ...] = ()
    if "profile" in entry:
        profile = profiles.get(entry["profile"])
        if profile is None:
            known = ", ".join(sorted(profiles))
            raise vol.MultipleInvalid([vol.Invalid(f"unknown profile (known: {known})", ["profile"])])
        orders = (word or profile.word_order, byte or profile.byte_order)
        inherited = tuple(build_point(raw, *orders) for raw in profile.points)
    own = tuple(build_point(raw, word, byte) for raw in entry.get("points", ()))
    if not inherited and not own:
        raise vol.MultipleInvalid([vol.Invalid("a device needs a profile or points", ["host"])])
    points = inherited + own
    problems = [
        vol.Invalid(message, ["points", index - len(inherited), key])
        for index, key, message in point_conflicts(points, first=len(inherited))
    ]
    if problems:
        raise vol.MultipleInvalid(problems)
    return ModbusDevice(
        id=device_id,
        name=entry.get("name", device_id),
        host=entry["host"],
        port=entry.get("port", DEFAULT_PORT),
        unit=entry.get("unit", 1),
        timeout=entry.get("timeout", DEFAULT_TIMEOUT_S),
        poll_interval=entry.get("poll_interval", DEFAULT_POLL_S),
        max_gap=entry.get("max_gap", max_gap),
        points=points,
    )


CONFIG_SCHEMA = vol.All(lambda value: {} if value is None else value, KEYS_SCHEMA, resolve)
