"""Command requests on `command/{name}/request`: validate, run once, answer once on `command/{name}/response`.

Each valid request runs in its own task so a long discovery does not hold up a write. A request
whose `(command, command_id)` was seen recently (a QoS 1 redelivery) is neither run nor answered
again. A rejected request is answered with an error, logged and published as a RequestRejected.
"""

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.bus import Bus
from hub.commands import CommandService, WriteOutcome, WriteRequest, WriteSource
from hub.discovery import DiscoveryService
from hub.identity import Identity
from hub.integration import DEFAULT_PRIORITY
from hub.mqtt.broker import EmbeddedBroker
from hub.mqtt.engine import InboundMessage
from hub.mqtt.status import StatusPublisher
from hub.mqtt_api.requests import (
    Command,
    InvalidRequest,
    Request,
    RequestRejected,
    Status,
    parse_request,
    response_payload,
)
from hub.points import PointRegistry
from hub.polling import Poller

_LOGGER = logging.getLogger(__name__)

REMEMBERED_IDS = 1000  # command ids kept to recognise redeliveries
REQUEST_FILTER = "command/+/request"


@dataclass(frozen=True)
class CommandContext:
    """What MQTT commands act on."""

    broker: EmbeddedBroker
    identity: Identity
    bus: Bus
    points: PointRegistry
    discovery: DiscoveryService
    commands: CommandService
    poller: Poller
    status: StatusPublisher
    restart: Callable[[], Awaitable[None]]  # restart the hub's services in process (reboot)
    # deploy flow files (name -> YAML text or None), author, note (hub.flows.service.FlowService.deploy)
    deploy_flows: Callable[[Mapping[str, str | None], str, str], Awaitable[Any]] | None = None


@dataclass(frozen=True)
class Reply:
    """A command's outcome; `then` runs after the response is sent (reboot)."""

    status: Status
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    then: Callable[[], Awaitable[None]] | None = None


Handler = Callable[[Request], Awaitable[Reply]]


class CommandHandler:
    """Subscribes to this hub's command requests and answers each exactly once."""

    def __init__(self, ctx: CommandContext, get_config: Handler) -> None:
        self._ctx = ctx
        self._prefix = ctx.identity.topic_prefix
        self._handlers: dict[Command, Handler] = {
            Command.GET_CONFIG: get_config,
            Command.START_MONITORING: self._start_monitoring,
            Command.STOP_MONITORING: self._stop_monitoring,
            Command.SET_VALUE_TO_POINT: self._set_value,
            Command.REBOOT: self._reboot,
        }
        self._seen: OrderedDict[tuple[Command, str], None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self.counters = {"requests": 0, "rejected": 0, "duplicates": 0, "failed": 0}

    def start(self) -> None:
        self._unsubscribe = self._ctx.broker.subscribe(self._prefix + REQUEST_FILTER, self._on_request)

    async def stop(self) -> None:
        """Stop listening and cancel the commands still running."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _on_request(self, message: InboundMessage) -> None:
        name = message.topic[len(self._prefix) :].split("/")[1]
        self.counters["requests"] += 1
        try:
            command = Command(name)
        except ValueError:
            known = ", ".join(Command)
            self._reject(message, name, InvalidRequest(f"unknown command {name!r} (known: {known})", None))
            return
        try:
            request = parse_request(command, message.payload, self._actor(message.client_id))
        except InvalidRequest as err:
            self._reject(message, name, err)
            return
        key = (command, request.command_id)
        if key in self._seen:
            self.counters["duplicates"] += 1
            _LOGGER.info("%s %s received again: not run twice", command, request.command_id)
            return
        self._seen[key] = None
        if len(self._seen) > REMEMBERED_IDS:
            self._seen.popitem(last=False)
        task = asyncio.create_task(self._run(request), name=f"mqtt.{command}.{request.command_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _actor(self, client_id: str | None) -> str:
        """The MQTT user who sent the request ('mqtt' for the hub itself or the bridge)."""
        entry = self._ctx.broker.broker.sessions.get(client_id) if client_id is not None else None
        username = entry[0].username if entry is not None else None
        return username or "mqtt"

    def _reject(self, message: InboundMessage, name: str, err: InvalidRequest) -> None:
        self.counters["rejected"] += 1
        _LOGGER.warning("MQTT request on %s from %s refused: %s", message.topic, message.client_id, err)
        self._ctx.bus.publish(RequestRejected(message.topic, err.command_id, str(err), message.client_id))
        self._respond(name, response_payload(name, err.command_id, Status.ERROR, str(err)))

    async def _run(self, request: Request) -> None:
        try:
            reply = await self._handlers[request.command](request)
        except Exception as err:
            self.counters["failed"] += 1
            _LOGGER.exception("MQTT %s %s failed", request.command, request.command_id)
            reply = Reply(Status.ERROR, f"internal error: {type(err).__name__}: {err}")
        payload = response_payload(
            request.command, request.command_id, reply.status, reply.error, **reply.result
        )
        self._respond(request.command, payload)
        if reply.then is not None:
            await reply.then()

    def _respond(self, name: str, payload: bytes) -> None:
        self._ctx.broker.publish(f"{self._prefix}command/{name}/response", payload, qos=1)

    # -- the commands -------------------------------------------------------------------

    async def _start_monitoring(self, request: Request) -> Reply:
        self._ctx.poller.resume()
        self._ctx.status.set_monitoring(True)
        return Reply(Status.SUCCESS, result={"monitoring": True})

    async def _stop_monitoring(self, request: Request) -> Reply:
        self._ctx.poller.pause()
        self._ctx.status.set_monitoring(False)
        return Reply(Status.SUCCESS, result={"monitoring": False})

    async def _set_value(self, request: Request) -> Reply:
        fields = request.fields
        result = await self._ctx.commands.write(
            WriteRequest(
                fields["point_id"],
                fields["value"],
                fields.get("priority", DEFAULT_PRIORITY),
                actor=request.actor,
                source=WriteSource.MQTT,
                dry_run=fields.get("dry_run", False),
            )
        )
        body = {
            "point_id": result.point_id,
            "outcome": str(result.outcome),
            "old_value": result.old,
            "value": result.new,
            "priority": result.priority,
            "verified": result.verified,
            "refusal": str(result.refusal) if result.refusal else None,
            "reason": result.reason,
        }
        if result.outcome in (WriteOutcome.WRITTEN, WriteOutcome.DRY_RUN):
            return Reply(Status.SUCCESS, result={"result": body})
        return Reply(Status.ERROR, result.reason or str(result.outcome), {"result": body})

    async def _reboot(self, request: Request) -> Reply:
        _LOGGER.warning("reboot requested by %s over MQTT: restarting the hub's services", request.actor)
        return Reply(Status.SUCCESS, result={"restarting": True}, then=self._ctx.restart)
