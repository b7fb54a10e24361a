"""Site-level alert actions: `iot/global/{org_id}/{site_id}/alert-management/{acknowledge,resolve}`.

A valid action is logged and published on the bus as an AlertAction (hub.alarms acts on it); an
invalid one is logged and published as a RequestRejected.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import voluptuous as vol

from hub.bus import Bus
from hub.identity import Identity
from hub.mqtt.broker import EmbeddedBroker
from hub.mqtt.engine import InboundMessage
from hub.mqtt_api.requests import MAX_COMMAND_ID, InvalidRequest, RequestRejected

_LOGGER = logging.getLogger(__name__)


class AlertVerb(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class AlertAction:
    """Someone acknowledged or resolved an alert."""

    verb: AlertVerb
    alert_id: str
    user: str | None
    comment: str | None
    command_id: str | None


_TEXT = vol.All(str, vol.Length(min=1, max=MAX_COMMAND_ID))
ACTION_SCHEMA = vol.Schema(
    {
        vol.Required("alert_id"): _TEXT,
        vol.Optional("command_id"): _TEXT,
        vol.Optional("user"): _TEXT,
        vol.Optional("comment"): vol.All(str, vol.Length(max=2000)),
        vol.Optional("timestamp"): str,
    }
)


def site_alert_filter(identity: Identity) -> str:
    return f"iot/global/{identity.org_id}/{identity.site_id}/alert-management/+"


class AlertActions:
    """Receives the site's alert actions."""

    def __init__(self, broker: EmbeddedBroker, bus: Bus, identity: Identity) -> None:
        self._broker = broker
        self._bus = bus
        self._filter = site_alert_filter(identity)
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        self._unsubscribe = self._broker.subscribe(self._filter, self._on_action)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_action(self, message: InboundMessage) -> None:
        try:
            action = parse_action(message)
        except InvalidRequest as err:
            _LOGGER.warning("alert action on %s refused: %s", message.topic, err)
            self._bus.publish(RequestRejected(message.topic, err.command_id, str(err), message.client_id))
            return
        _LOGGER.info("alert %s %s by %s", action.alert_id, action.verb, action.user or message.client_id)
        self._bus.publish(action)


def parse_action(message: InboundMessage) -> AlertAction:
    """Decode and validate an alert action; InvalidRequest says what is wrong."""
    verb_name = message.topic.rsplit("/", 1)[1]
    if verb_name not in set(AlertVerb):
        raise InvalidRequest(f"unknown alert action {verb_name!r}", None)
    try:
        data = json.loads(message.payload)
    except (UnicodeDecodeError, ValueError) as err:
        raise InvalidRequest(f"payload is not valid JSON: {err}", None) from None
    raw_id = data.get("command_id") if isinstance(data, dict) else None
    try:
        valid = ACTION_SCHEMA(data)
    except vol.Invalid as err:
        raise InvalidRequest(str(err), raw_id if isinstance(raw_id, str) else None) from None
    return AlertAction(
        AlertVerb(verb_name),
        valid["alert_id"],
        valid.get("user"),
        valid.get("comment"),
        valid.get("command_id"),
    )
