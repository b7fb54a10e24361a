"""The `get_config` command: discovery with progress at QoS 0, then the devices found as the response.

Progress goes to `command/get_config/progress` (QoS 0, not retained) on every change the discovery
service reports (coalesced for a slow reader). A discovery that runs out of time answers with status
`timeout` and what was found so far. `polling_interval` sets the poll interval of the devices found.
A request with `flow_config` deploys flows instead (hub.flows.service), answering with the deployment.
"""

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from hub.discovery import DiscoveryError, DiscoveryOperation, DiscoveryState
from hub.flows.service import DeployRefused
from hub.integration import DiscoveredDevice, DiscoveryRequest
from hub.mqtt_api.commands import CommandContext, Reply
from hub.mqtt_api.requests import Command, Request, Status, encode
from hub.points import Point

_OBJECT_REF = re.compile(r"([A-Za-z][A-Za-z0-9-]*)[:,.](\d+)")


class GetConfig:
    """Runs one get_config request against the hub's discovery service."""

    def __init__(self, ctx: CommandContext) -> None:
        self._ctx = ctx
        self._progress_topic = f"{ctx.identity.topic_prefix}command/{Command.GET_CONFIG}/progress"

    async def __call__(self, request: Request) -> Reply:
        fields = request.fields
        if "flow_config" in fields:
            return await self._deploy_flows(fields["flow_config"], request.actor)
        discovery_request = DiscoveryRequest(
            low_instance=fields.get("low_instance"),
            high_instance=fields.get("high_instance"),
            addresses=tuple(fields.get("ip_addresses", ())),
            timeout=fields.get("timeout", DiscoveryRequest.timeout),
        )
        try:
            operation_id = self._ctx.discovery.start(fields.get("integrations"), discovery_request)
        except DiscoveryError as err:
            return Reply(Status.ERROR, str(err))
        operation: DiscoveryOperation | None = None
        async for operation in self._ctx.discovery.updates(operation_id):
            self._ctx.broker.publish(self._progress_topic, encode(progress(request.command_id, operation)))
        assert operation is not None  # updates() yields at least the operation as it is now
        interval = fields.get("polling_interval")
        if interval is not None:
            self._set_poll_interval(operation.devices, interval)
        result = {
            "operation_id": operation.id,
            "polling_interval": interval,
            "discovered_devices": [device_json(found) for found in operation.devices],
        }
        if operation.state == DiscoveryState.COMPLETED:
            return Reply(Status.SUCCESS, result=result)
        if operation.state == DiscoveryState.TIMED_OUT:
            return Reply(Status.TIMEOUT, f"discovery timed out after {discovery_request.timeout:g} s", result)
        errors = "; ".join(f"{p.domain}: {p.error}" for p in operation.integrations if p.error)
        return Reply(Status.ERROR, f"discovery {operation.state}" + (f": {errors}" if errors else ""), result)

    async def _deploy_flows(self, flow_config: Mapping[str, Any], actor: str) -> Reply:
        """Deploy `{files: {name: YAML text or null}, note}` as `actor`; refused with every issue."""
        files, note = flow_config.get("files"), flow_config.get("note", "")
        if (
            not isinstance(files, dict)
            or not files
            or not all(
                isinstance(name, str) and (text is None or isinstance(text, str))
                for name, text in files.items()
            )
        ):
            return Reply(
                Status.ERROR, "flow_config.files: expected an object of file name -> YAML text (or null)"
            )
        if not isinstance(note, str):
            return Reply(Status.ERROR, "flow_config.note: expected a string")
        if self._ctx.deploy_flows is None:
            return Reply(Status.ERROR, "flow_config: this hub runs no flows")
        try:
            deployed = await self._ctx.deploy_flows(files, actor, note)
        except DeployRefused as err:
            return Reply(
                Status.ERROR, f"flow_config: {err}", {"flows": {"issues": [i.json() for i in err.issues]}}
            )
        return Reply(Status.SUCCESS, result={"flows": deployed.json()})

    def _set_poll_interval(self, devices: tuple[DiscoveredDevice, ...], interval: float) -> None:
        """Poll the registered devices among those found every `interval` seconds."""
        points = self._ctx.points
        for found in devices:
            try:
                device = points.device(found.device.id)
            except KeyError:
                continue
            if device.domain == found.device.domain and device.poll_interval != interval:
                points.add_device(dataclasses.replace(device, poll_interval=interval))


def progress(command_id: str, operation: DiscoveryOperation) -> dict[str, object]:
    """One progress message; `total` is estimated from the devices found and the percentage done."""
    found = len(operation.devices)
    percent = operation.percent
    estimate = round(found * 100 / percent) if percent > 0 else found
    return {
        "command_id": command_id,
        "operation_id": operation.id,
        "state": str(operation.state),
        "progress": round(percent, 1),
        "current_device": operation.current or None,
        "devices_found": found,
        "total": max(found, estimate),
    }


def device_json(found: DiscoveredDevice) -> dict[str, object]:
    """A discovered device as the contract shows it."""
    device = found.device
    return {
        "device_id": device.id,
        "ip_address": device.address,
        "name": device.name,
        "integration": device.domain,
        "objects": [object_json(point) for point in found.points],
    }


def object_json(point: Point) -> dict[str, object]:
    """A point as a device object: type and instance from its address (`analogInput:1`) when it has them."""
    match = _OBJECT_REF.fullmatch(point.address) or _OBJECT_REF.fullmatch(".".join(point.id.split(".")[-2:]))
    return {
        "point_id": point.id,
        "object_type": match.group(1) if match else str(point.kind),
        "instance": int(match.group(2)) if match else None,
        "name": point.name,
        "units": point.units,
    }
