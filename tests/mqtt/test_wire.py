"""Hot-path MQTT 3.1.1 encoding and decoding on plain bytes."""

import pytest

from hub.mqtt.wire import (
    PINGRESP_BYTES,
    PacketType,
    ProtocolViolation,
    Publish,
    decode_packet_id,
    decode_publish,
    decode_remaining_length,
    encode_ack,
    encode_publish,
    encode_remaining_length,
)


def split(packet: bytes) -> tuple[int, bytes]:
    """(first byte, body) of one whole packet, checking its length field."""
    decoded = decode_remaining_length(packet, 1)
    assert decoded is not None
    length, start = decoded
    assert len(packet) == start + length
    return packet[0], packet[start:]


@pytest.mark.parametrize(
    ("length", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16_383, b"\xff\x7f"),
        (16_384, b"\x80\x80\x01"),
        (2_097_151, b"\xff\xff\x7f"),
        (2_097_152, b"\x80\x80\x80\x01"),
        (268_435_455, b"\xff\xff\xff\x7f"),
    ],
)
def test_remaining_length_round_trip__valid(length, encoded):
    assert encode_remaining_length(length) == encoded
    assert decode_remaining_length(b"\x30" + encoded, 1) == (length, 1 + len(encoded))


@pytest.mark.parametrize("partial", [b"", b"\x80", b"\xff\xff", b"\xff\xff\xff"])
def test_remaining_length_needs_more_bytes(partial):
    assert decode_remaining_length(b"\x30" + partial, 1) is None


@pytest.mark.parametrize("encoded", [b"\xff\xff\xff\xff\x01", b"\x80\x80\x80\x80\x00"])
def test_remaining_length__invalid(encoded):
    with pytest.raises(ProtocolViolation, match="remaining length"):
        decode_remaining_length(b"\x30" + encoded, 1)


@pytest.mark.parametrize(
    ("topic", "payload", "qos", "retain", "packet_id", "dup"),
    [
        ("a/b", b"hello", 0, False, None, False),
        ("a/b", b"", 0, True, None, False),
        ("site/°C", bytes(range(256)) * 600, 0, False, None, False),  # body over 128 KiB
        ("t", b"x", 1, False, 1, False),
        ("t", b"x", 1, True, 65535, True),
        ("t", b"", 2, False, 42, False),
    ],
)
def test_publish_round_trip(topic, payload, qos, retain, packet_id, dup):
    packet = encode_publish(topic.encode(), payload, qos, retain, packet_id, dup)
    first, body = split(packet)
    assert first >> 4 == PacketType.PUBLISH
    assert decode_publish(first, body) == Publish(topic, payload, qos, retain, dup, packet_id)


def test_publish_encoding_matches_the_spec():
    # MQTT 3.1.1 section 3.3: fixed header 0x32 (QoS 1), length 9, topic "a/b", packet id 10, payload "hi"
    assert encode_publish(b"a/b", b"hi", 1, False, 10) == b"\x32\x09\x00\x03a/b\x00\x0ahi"
    assert encode_publish(b"a", b"", 0, True) == b"\x31\x03\x00\x01a"


@pytest.mark.parametrize(
    ("first", "body", "reason"),
    [
        (0x36, b"\x00\x01a\x00\x01", "QoS 3"),
        (0x30, b"", "too short"),
        (0x30, b"\x00", "too short"),
        (0x30, b"\x00\x05ab", "beyond the packet"),
        (0x30, b"\x00\x02\xff\xfe", "UTF-8"),
        (0x32, b"\x00\x01a", "packet id"),
        (0x32, b"\x00\x01a\x00", "packet id"),
    ],
    ids=["qos3", "empty", "one-byte", "topic-overrun", "bad-utf8", "no-packet-id", "half-packet-id"],
)
def test_decode_publish__invalid(first, body, reason):
    with pytest.raises(ProtocolViolation, match=reason):
        decode_publish(first, body)


@pytest.mark.parametrize(
    ("packet_type", "first"),
    [
        (PacketType.PUBACK, 0x40),
        (PacketType.PUBREC, 0x50),
        (PacketType.PUBREL, 0x62),
        (PacketType.PUBCOMP, 0x70),
    ],
)
def test_ack_round_trip(packet_type, first):
    packet = encode_ack(packet_type, 0x1234)
    assert packet == bytes((first, 2, 0x12, 0x34))
    assert decode_packet_id(split(packet)[1]) == 0x1234


@pytest.mark.parametrize("body", [b"", b"\x01", b"\x00\x01\x02"])
def test_decode_packet_id__invalid(body):
    with pytest.raises(ProtocolViolation):
        decode_packet_id(body)


def test_pingresp():
    assert split(PINGRESP_BYTES) == (PacketType.PINGRESP << 4, b"")
