"""What the broker still owes one client session: QoS 1 messages until they are acknowledged.

amqtt drops unacknowledged QoS 1 messages when a connection closes and keeps messages for
offline sessions in an unbounded queue. This outbox lives on the amqtt `Session` (in its
`attributes`, the documented place for extension state), so a persistent session that
reconnects gets every message it has not acknowledged, and it is bounded.
"""

from collections import OrderedDict
from dataclasses import dataclass

from amqtt.session import Session

from hub.mqtt.wire import encode_publish

_OUTBOX_KEY = "bms_hub.qos1_outbox"


@dataclass(slots=True)
class PendingMessage:
    """A QoS 1 message with its packet id; `sent` decides the DUP flag on redelivery."""

    packet_id: int
    topic: bytes
    payload: bytes
    retain: bool
    sent: bool = False

    def encode(self) -> bytes:
        """Encode the PUBLISH, marking it a duplicate if it was sent before, then mark it sent."""
        data = encode_publish(self.topic, self.payload, 1, self.retain, self.packet_id, dup=self.sent)
        self.sent = True
        return data


class Qos1Outbox:
    """QoS 1 messages for one session, in order, keyed by packet id."""

    def __init__(self) -> None:
        self.messages: OrderedDict[int, PendingMessage] = OrderedDict()
        self._last_id = 0

    def __len__(self) -> int:
        return len(self.messages)

    def add(self, topic: bytes, payload: bytes, retain: bool) -> PendingMessage:
        """Store a message under a free packet id (the caller bounds the size, so ids never run out)."""
        packet_id = self._last_id
        while True:
            packet_id = packet_id % 0xFFFF + 1
            if packet_id not in self.messages:
                break
        self._last_id = packet_id
        message = PendingMessage(packet_id, topic, payload, retain)
        self.messages[packet_id] = message
        return message

    def acknowledge(self, packet_id: int) -> bool:
        """Forget an acknowledged message; False if the id was not pending."""
        return self.messages.pop(packet_id, None) is not None

    def drop_oldest(self) -> None:
        """Make room when an offline session's backlog is full."""
        self.messages.popitem(last=False)


def outbox_of(session: Session) -> Qos1Outbox:
    """The session's outbox, created on first use."""
    outbox = session.attributes.get(_OUTBOX_KEY)
    if outbox is None:
        outbox = session.attributes[_OUTBOX_KEY] = Qos1Outbox()
    return outbox
