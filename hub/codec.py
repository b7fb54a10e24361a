"""JSON shapes of the core's objects, shared by the edges that speak JSON (REST, the discovery file).

Timestamps are ISO-8601 UTC strings ("2025-03-01T12:00:00.000Z"); a number that is not finite
becomes null (JSON has no NaN). Decoders raise KeyError, TypeError or ValueError on a bad shape.
"""

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from hub.discovery import DiscoveryOperation, DiscoveryState, IntegrationDiscovery
from hub.integration import DiscoveredDevice, DiscoveryRequest
from hub.points import Device, Limits, Point, PointKind, Sample, Value

Json = dict[str, Any]


def iso(timestamp: float | None) -> str | None:
    """Epoch seconds as ISO-8601 UTC with milliseconds and a Z."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str | None) -> float | None:
    """ISO-8601 (a naive time counts as UTC) as epoch seconds."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def json_value(value: Value) -> Value:
    """A point value JSON can carry."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def sample_json(sample: Sample | None) -> Json:
    """Value, quality, timestamp and reason; all null when there is no sample yet."""
    if sample is None:
        return {"value": None, "quality": None, "timestamp": None, "reason": None}
    return {
        "value": json_value(sample.value),
        "quality": str(sample.quality),
        "timestamp": iso(sample.timestamp),
        "reason": sample.reason,
    }


def device_json(device: Device) -> Json:
    return {
        "id": device.id,
        "name": device.name,
        "integration": device.domain,
        "address": device.address,
        "vendor": device.vendor,
        "model": device.model,
        "poll_interval": device.poll_interval,
    }


def device_from_json(data: Mapping[str, Any]) -> Device:
    return Device(
        id=str(data["id"]),
        name=str(data["name"]),
        domain=str(data["integration"]),
        address=str(data["address"]),
        vendor=str(data["vendor"]),
        model=str(data["model"]),
        poll_interval=float(data["poll_interval"]),
    )


def point_json(point: Point) -> Json:
    limits = point.limits
    return {
        "id": point.id,
        "device_id": point.device_id,
        "name": point.name,
        "kind": str(point.kind),
        "units": point.units,
        "writable": point.writable,
        "limits": {
            "minimum": limits.minimum,
            "maximum": limits.maximum,
            "states": list(limits.states) if limits.states is not None else None,
        },
        "poll_interval": point.poll_interval,
        "cov_increment": point.cov_increment,
        "min_write_interval": point.min_write_interval,
        "address": point.address,
    }


def point_from_json(data: Mapping[str, Any]) -> Point:
    limits = data["limits"]
    states = limits["states"]
    return Point(
        id=str(data["id"]),
        device_id=str(data["device_id"]),
        name=str(data["name"]),
        kind=PointKind(data["kind"]),
        units=str(data["units"]),
        writable=bool(data["writable"]),
        limits=Limits(
            _optional_float(limits["minimum"]),
            _optional_float(limits["maximum"]),
            tuple(int(state) for state in states) if states is not None else None,
        ),
        poll_interval=_optional_float(data["poll_interval"]),
        cov_increment=_optional_float(data["cov_increment"]),
        min_write_interval=float(data["min_write_interval"]),
        address=str(data["address"]),
    )


def found_json(found: DiscoveredDevice) -> Json:
    """A discovered device with its points."""
    return {**device_json(found.device), "points": [point_json(point) for point in found.points]}


def found_from_json(data: Mapping[str, Any]) -> DiscoveredDevice:
    """The inverse of `found_json`."""
    return DiscoveredDevice(device_from_json(data), tuple(point_from_json(p) for p in data["points"]))


def operation_json(operation: DiscoveryOperation, *, with_devices: bool = True) -> Json:
    """A discovery operation; `with_devices=False` leaves out the devices (a summary for lists)."""
    request = operation.request
    body: Json = {
        "operation_id": operation.id,
        "state": str(operation.state),
        "percent": round(operation.percent, 1),
        "current": operation.current,
        "started_at": iso(operation.started_at),
        "finished_at": iso(operation.finished_at),
        "request": {
            "low_instance": request.low_instance,
            "high_instance": request.high_instance,
            "addresses": list(request.addresses),
            "timeout": request.timeout,
        },
        "integrations": [
            {
                "domain": part.domain,
                "state": str(part.state),
                "percent": round(part.percent, 1),
                "current": part.current,
                "message": part.message,
                "devices": part.devices,
                "error": part.error,
            }
            for part in operation.integrations
        ],
        "device_count": len(operation.devices),
    }
    if with_devices:
        body["devices"] = [found_json(found) for found in operation.devices]
    return body


def operation_from_json(data: Mapping[str, Any]) -> DiscoveryOperation:
    """The inverse of `operation_json` (with its devices)."""
    request = data["request"]
    return DiscoveryOperation(
        id=str(data["operation_id"]),
        request=DiscoveryRequest(
            low_instance=_optional_int(request["low_instance"]),
            high_instance=_optional_int(request["high_instance"]),
            addresses=tuple(str(address) for address in request["addresses"]),
            timeout=float(request["timeout"]),
        ),
        started_at=_required_time(data["started_at"]),
        integrations=tuple(
            IntegrationDiscovery(
                domain=str(part["domain"]),
                state=DiscoveryState(part["state"]),
                percent=float(part["percent"]),
                current=str(part["current"]),
                message=str(part["message"]),
                devices=int(part["devices"]),
                error=None if part["error"] is None else str(part["error"]),
            )
            for part in data["integrations"]
        ),
        state=DiscoveryState(data["state"]),
        finished_at=parse_iso(data["finished_at"]),
        current=str(data["current"]),
        devices=tuple(found_from_json(found) for found in data["devices"]),
    )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _required_time(text: Any) -> float:
    timestamp = parse_iso(text)
    if timestamp is None:
        raise ValueError("a timestamp is required")
    return timestamp
