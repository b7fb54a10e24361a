"""Registers <-> values against hand-computed vectors (docs/modbus.md has the worked example)."""

import pytest

from integrations.modbus.codec import EncodeError, decode, encode, with_bit
from integrations.modbus.model import DataType, Order, RegisterPoint, Table

BIG, LITTLE = Order.BIG, Order.LITTLE


def point(kind: DataType, word: Order = BIG, byte: Order = BIG, **extra: object) -> RegisterPoint:
    return RegisterPoint("p", Table.HOLDING, 0, kind, word_order=word, byte_order=byte, **extra)  # type: ignore[arg-type]


# (type, word order, byte order, value, registers as the device sends them)
VECTORS = [
    (DataType.FLOAT32, BIG, BIG, 123.456, [0x42F6, 0xE979]),
    (DataType.FLOAT32, LITTLE, BIG, 123.456, [0xE979, 0x42F6]),
    (DataType.FLOAT32, BIG, LITTLE, 123.456, [0xF642, 0x79E9]),
    (DataType.FLOAT32, LITTLE, LITTLE, 123.456, [0x79E9, 0xF642]),
    (DataType.UINT32, BIG, BIG, 0x12345678, [0x1234, 0x5678]),
    (DataType.UINT32, LITTLE, BIG, 0x12345678, [0x5678, 0x1234]),
    (DataType.UINT32, BIG, LITTLE, 0x12345678, [0x3412, 0x7856]),
    (DataType.UINT32, LITTLE, LITTLE, 0x12345678, [0x7856, 0x3412]),
    (DataType.INT32, BIG, BIG, -2, [0xFFFF, 0xFFFE]),
    (DataType.INT32, LITTLE, BIG, -2, [0xFFFE, 0xFFFF]),
    (DataType.INT16, BIG, BIG, -2, [0xFFFE]),
    (DataType.INT16, BIG, LITTLE, -2, [0xFEFF]),
    (DataType.UINT16, BIG, LITTLE, 0x1234, [0x3412]),
    (DataType.INT64, BIG, BIG, 0x0102030405060708, [0x0102, 0x0304, 0x0506, 0x0708]),
    (DataType.INT64, LITTLE, BIG, 0x0102030405060708, [0x0708, 0x0506, 0x0304, 0x0102]),
    (DataType.INT64, BIG, LITTLE, -1, [0xFFFF] * 4),
    (DataType.FLOAT64, BIG, BIG, 1.5, [0x3FF8, 0, 0, 0]),
    (DataType.FLOAT64, LITTLE, BIG, 1.5, [0, 0, 0, 0x3FF8]),
    (DataType.FLOAT64, BIG, LITTLE, 1.5, [0xF83F, 0, 0, 0]),
]


@pytest.mark.parametrize(("kind", "word", "byte", "value", "registers"), VECTORS)
def test_decode_encode__valid(kind, word, byte, value, registers):
    assert decode(registers, point(kind, word, byte)) == value
    assert encode(value, point(kind, word, byte)) == registers


@pytest.mark.parametrize(("byte", "registers"), [(BIG, [0x4142, 0x4344, 0]), (LITTLE, [0x4241, 0x4443, 0])])
def test_string__padded_with_nul_and_byte_order_applies(byte, registers):
    text = point(DataType.STRING, byte=byte, length=3)
    assert encode("ABCD", text) == registers
    assert decode(registers, text) == "ABCD"


def test_scale_and_offset__raw_to_engineering_and_back():
    temperature = point(DataType.INT16, scale=0.1, offset=-40)
    assert decode([650], temperature) == 25.0
    assert encode(25.0, temperature) == [650]
    assert decode([2253], point(DataType.UINT16, scale=0.1)) == 225.3


def test_float32__shown_as_the_device_meant_it():
    assert decode(encode(230.1, point(DataType.FLOAT32)), point(DataType.FLOAT32)) == 230.1


@pytest.mark.parametrize(
    ("bit", "byte", "register", "expected"),
    [
        (2, BIG, 0x0005, True),
        (1, BIG, 0x0005, False),
        (2, LITTLE, 0x0500, True),
        (10, BIG, 0x0400, True),
    ],
)
def test_bit__one_bit_of_a_register(bit, byte, register, expected):
    assert decode([register], point(DataType.BIT, byte=byte, bit=bit)) is expected


def test_with_bit__changes_only_that_bit():
    assert with_bit(0x0005, point(DataType.BIT, bit=1), True) == 0x0007
    assert with_bit(0x0005, point(DataType.BIT, bit=0), False) == 0x0004
    assert with_bit(0x0500, point(DataType.BIT, byte=LITTLE, bit=8), True) == 0x0501


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (DataType.UINT16, 65536, r"65536 does not fit in uint16 \(raw 65536 outside 0\.\.65535\)"),
        (DataType.UINT16, -1, "does not fit in uint16"),
        (DataType.INT16, 40000, "does not fit in int16"),
        (DataType.FLOAT32, 1e39, "does not fit in float32"),
        (DataType.FLOAT32, float("nan"), "expected a finite number"),
        (DataType.UINT16, "7", "expected a finite number, got '7'"),
        (DataType.UINT16, True, "expected a finite number, got True"),
    ],
)
def test_encode__invalid(kind, value, message):
    with pytest.raises(EncodeError, match=message):
        encode(value, point(kind))


def test_encode__a_string_too_long_or_not_a_string():
    with pytest.raises(EncodeError, match="longer than 4 bytes"):
        encode("ABCDE", point(DataType.STRING, length=2))
    with pytest.raises(EncodeError, match="expected a string"):
        encode(5, point(DataType.STRING, length=2))


def test_encode__scaled_value_rounds_to_the_nearest_raw_step():
    assert encode(45.06, point(DataType.UINT16, scale=0.1)) == [451]
