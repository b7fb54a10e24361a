"""Encoding and decoding of the MQTT 3.1.1 packets on the broker's hot path.

amqtt parses every packet with several awaited reads and builds packet objects for every
delivery; PUBLISH, PUBACK and PINGREQ dominate a broker's traffic, so these few are handled
here on plain bytes. Everything rarer (CONNECT, SUBSCRIBE, ...) still goes through amqtt's
packet classes.
"""

from dataclasses import dataclass
from enum import IntEnum


class PacketType(IntEnum):
    CONNECT = 1
    CONNACK = 2
    PUBLISH = 3
    PUBACK = 4
    PUBREC = 5
    PUBREL = 6
    PUBCOMP = 7
    SUBSCRIBE = 8
    SUBACK = 9
    UNSUBSCRIBE = 10
    UNSUBACK = 11
    PINGREQ = 12
    PINGRESP = 13
    DISCONNECT = 14


class ProtocolViolation(Exception):
    """The peer sent bytes that are not valid MQTT 3.1.1; the connection must be closed."""


class PacketTooLarge(ProtocolViolation):
    """A packet's announced size is above the configured limit."""


PINGRESP_BYTES = b"\xd0\x00"


@dataclass(frozen=True, slots=True)
class Publish:
    """A decoded PUBLISH packet."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    dup: bool
    packet_id: int | None


def encode_remaining_length(length: int) -> bytes:
    """Encode the variable-length 'remaining length' field."""
    out = bytearray()
    while True:
        digit, length = length & 0x7F, length >> 7
        if length:
            out.append(digit | 0x80)
        else:
            out.append(digit)
            return bytes(out)


def decode_remaining_length(buf: bytes | bytearray, start: int) -> tuple[int, int] | None:
    """Return (length, index after the field), or None when more bytes are needed."""
    length = 0
    shift = 0
    index = start
    while index < len(buf):
        byte = buf[index]
        length |= (byte & 0x7F) << shift
        index += 1
        if byte < 0x80:
            return length, index
        shift += 7
        if shift > 21:
            raise ProtocolViolation("malformed remaining length")
    return None


def encode_publish(
    topic: bytes, payload: bytes, qos: int, retain: bool, packet_id: int | None = None, dup: bool = False
) -> bytes:
    """Encode a PUBLISH packet; `topic` is already UTF-8 so fan-out encodes it once."""
    first = 0x30 | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0)
    head = len(topic).to_bytes(2, "big") + topic
    if qos:
        head += packet_id.to_bytes(2, "big")  # type: ignore[union-attr]
    return bytes((first,)) + encode_remaining_length(len(head) + len(payload)) + head + payload


def encode_ack(packet_type: PacketType, packet_id: int) -> bytes:
    """Encode PUBACK, PUBREC, PUBREL or PUBCOMP."""
    first = (packet_type << 4) | (0x02 if packet_type == PacketType.PUBREL else 0)
    return bytes((first, 2)) + packet_id.to_bytes(2, "big")


def decode_publish(first: int, body: bytes) -> Publish:
    """Decode a PUBLISH body; raise ProtocolViolation on anything MQTT 3.1.1 forbids."""
    qos = (first >> 1) & 0x03
    if qos == 3:
        raise ProtocolViolation("PUBLISH with QoS 3")
    if len(body) < 2:
        raise ProtocolViolation("PUBLISH too short")
    topic_end = 2 + int.from_bytes(body[:2], "big")
    if topic_end > len(body):
        raise ProtocolViolation("PUBLISH topic length beyond the packet")
    try:
        topic = body[2:topic_end].decode("utf-8")
    except UnicodeDecodeError as err:
        raise ProtocolViolation("PUBLISH topic is not UTF-8") from err
    packet_id = None
    if qos:
        if topic_end + 2 > len(body):
            raise ProtocolViolation("PUBLISH without packet id")
        packet_id = int.from_bytes(body[topic_end : topic_end + 2], "big")
        topic_end += 2
    return Publish(topic, body[topic_end:], qos, bool(first & 0x01), bool(first & 0x08), packet_id)


def decode_packet_id(body: bytes) -> int:
    """Read the packet id of an acknowledgement packet."""
    if len(body) != 2:
        raise ProtocolViolation("acknowledgement with a wrong length")
    return int.from_bytes(body, "big")
