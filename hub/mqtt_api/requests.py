"""Command requests on the MQTT contract: their schemas, parsing, and the one response each gets.

A request is JSON with a `command_id`. Anything else (not JSON, not an object, a missing or
unreadable `command_id`, an unknown field, a wrong type) is a `RequestRejected`: it is answered with
an error response (with `command_id` null when it could not be read), never with silence.
"""

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import voluptuous as vol

from hub.codec import iso

MAX_COMMAND_ID = 128
MAX_INSTANCE = 4_194_303  # the largest BACnet device instance


class Command(StrEnum):
    GET_CONFIG = "get_config"
    START_MONITORING = "start_monitoring"
    STOP_MONITORING = "stop_monitoring"
    SET_VALUE_TO_POINT = "set_value_to_point"
    REBOOT = "reboot"


class Status(StrEnum):
    SUCCESS = "success"
    ERROR = "error"
    TIMEOUT = "timeout"  # get_config only: discovery ran out of time, the result is partial


@dataclass(frozen=True)
class Request:
    """A valid request: its command, id, validated fields, and who sent it."""

    command: Command
    command_id: str
    fields: Mapping[str, Any]
    actor: str


@dataclass(frozen=True)
class RequestRejected:
    """An activity event on the bus: a request (or alert action) that could not be accepted, and why."""

    topic: str
    command_id: str | None
    error: str
    client_id: str | None


class InvalidRequest(Exception):
    """The request cannot be accepted; `command_id` is None when it could not be read."""

    def __init__(self, error: str, command_id: str | None) -> None:
        super().__init__(error)
        self.command_id = command_id


def _text(max_length: int) -> Any:
    return vol.All(str, vol.Length(min=1, max=max_length))


def _number(minimum: float, maximum: float) -> Any:
    """An int or float in a range; true/false are not numbers here."""

    def validate(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not minimum <= value <= maximum:
            raise vol.Invalid(f"expected a number between {minimum:g} and {maximum:g}")
        return float(value)

    return validate


def _integer(minimum: int, maximum: int) -> Any:
    def validate(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise vol.Invalid(f"expected an integer between {minimum} and {maximum}")
        return value

    return validate


def _value(value: Any) -> Any:
    """A point value: number, true/false, text, or null (relinquish)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    raise vol.Invalid("expected a number, true/false, a string or null")


def _text_list(max_items: int) -> Any:
    return vol.All([_text(256)], vol.Length(max=max_items))


_COMMON = {vol.Required("command_id"): _text(MAX_COMMAND_ID), vol.Optional("timestamp"): str}

SCHEMAS: dict[Command, vol.Schema] = {
    Command.GET_CONFIG: vol.Schema(
        {
            **_COMMON,
            vol.Optional("integrations"): _text_list(64),
            vol.Optional("ip_addresses"): _text_list(1024),
            vol.Optional("low_instance"): _integer(0, MAX_INSTANCE),
            vol.Optional("high_instance"): _integer(0, MAX_INSTANCE),
            vol.Optional("timeout"): _number(0.1, 3600),
            vol.Optional("polling_interval"): _number(1, 86400),
            vol.Optional("flow_config"): dict,
        }
    ),
    Command.START_MONITORING: vol.Schema(_COMMON),
    Command.STOP_MONITORING: vol.Schema(_COMMON),
    Command.SET_VALUE_TO_POINT: vol.Schema(
        {
            **_COMMON,
            vol.Required("point_id"): _text(256),
            vol.Required("value"): _value,
            vol.Optional("priority"): _integer(1, 16),
            vol.Optional("dry_run"): bool,
        }
    ),
    Command.REBOOT: vol.Schema(_COMMON),
}


def parse_request(command: Command, payload: bytes, actor: str) -> Request:
    """Decode and validate a request; InvalidRequest says what is wrong."""
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as err:
        raise InvalidRequest(f"payload is not valid JSON: {err}", None) from None
    if not isinstance(data, dict):
        raise InvalidRequest("payload must be a JSON object with a command_id", None)
    raw_id = data.get("command_id")
    command_id = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= MAX_COMMAND_ID else None
    try:
        fields = SCHEMAS[command](data)
    except vol.MultipleInvalid as err:
        raise InvalidRequest(_describe(err), command_id) from None
    return Request(command, fields.pop("command_id"), fields, actor)


def _describe(error: vol.MultipleInvalid) -> str:
    """Every problem as `field: message`, e.g. `priority: expected an integer between 1 and 16`."""
    parts = []
    for each in error.errors:
        where = ".".join(str(part) for part in each.path) or "payload"
        message = each.error_message
        if message == "extra keys not allowed":
            message = "unknown field"
        elif message == "required key not provided":
            message = "required field missing"
        parts.append(f"{where}: {message}")
    return "; ".join(sorted(parts))


def response_payload(
    command: str, command_id: str | None, status: Status, error: str | None = None, **result: Any
) -> bytes:
    """The one final response to a request."""
    body = {
        "command_id": command_id,
        "command": str(command),
        "status": str(status),
        "error": error,
        "timestamp": iso(time.time()),
        **result,
    }
    return encode(body)


_COMPACT = json.JSONEncoder(separators=(",", ":"))  # json.dumps would make one per call


def encode(body: Mapping[str, Any]) -> bytes:
    """Compact JSON, as every payload of the contract is sent."""
    return _COMPACT.encode(body).encode()
