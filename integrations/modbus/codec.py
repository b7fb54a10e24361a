"""Registers to values and back: data type, word order, byte order (swap within a register), scale and offset.

pymodbus converts with a word order only; meters that send each register's bytes swapped need the
byte order too, so the whole conversion lives here, on `struct`, in one place for reads and writes.
"""

import math
import struct
from collections.abc import Sequence

from hub.points import Value

from .model import DataType, Order, RegisterPoint

_FORMATS = {
    DataType.INT16: "h",
    DataType.UINT16: "H",
    DataType.INT32: "i",
    DataType.UINT32: "I",
    DataType.INT64: "q",
    DataType.FLOAT32: "f",
    DataType.FLOAT64: "d",
}


class EncodeError(ValueError):
    """A value that the point's data type cannot carry."""


def _swap(register: int) -> int:
    return ((register & 0xFF) << 8) | (register >> 8)


def to_wire_order(registers: Sequence[int], point: RegisterPoint) -> list[int]:
    """Registers in big-endian order (most significant word and byte first) as the device sends them."""
    ordered = list(reversed(registers)) if point.word_order == Order.LITTLE else list(registers)
    return [_swap(r) for r in ordered] if point.byte_order == Order.LITTLE else ordered


# Reversing words and swapping bytes are each their own inverse, and they commute.
from_wire_order = to_wire_order


def decode(registers: Sequence[int], point: RegisterPoint) -> Value:
    """The point's engineering value from its registers, as read."""
    ordered = from_wire_order(registers, point)
    if point.type == DataType.BIT:
        return bool((ordered[0] >> (point.bit or 0)) & 1)
    raw = b"".join(r.to_bytes(2, "big") for r in ordered)
    if point.type == DataType.STRING:
        return raw.rstrip(b"\x00").decode("utf-8", errors="replace")
    number = struct.unpack(">" + _FORMATS[point.type], raw)[0]
    if point.type == DataType.FLOAT32:
        number = _significant(number, 7)  # 230.1 rather than 230.10000610351562: what the device meant
    if not point.scaled:
        return number
    return _significant(number * point.scale + point.offset, 12)  # 45.0, not 45.00000000000001


def _significant(number: float, digits: int) -> float:
    return float(f"{number:.{digits}g}") if math.isfinite(number) else number


def encode(value: Value, point: RegisterPoint) -> list[int]:
    """The registers to write for `value` (not for single bits: see `with_bit`)."""
    if point.type == DataType.STRING:
        if not isinstance(value, str):
            raise EncodeError(f"expected a string, got {value!r}")
        raw = value.encode("utf-8")
        if len(raw) > point.length * 2:
            raise EncodeError(f"{value!r} is longer than {point.length * 2} bytes")
        raw = raw.ljust(point.length * 2, b"\x00")
    else:
        raw = struct.pack(">" + _FORMATS[point.type], _raw_number(value, point))
    registers = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return to_wire_order(registers, point)


def _raw_number(value: Value, point: RegisterPoint) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EncodeError(f"expected a finite number, got {value!r}")
    raw = (value - point.offset) / point.scale if point.scaled else value
    if point.type.is_integer:
        low, high = point.type.integer_range
        rounded = round(raw)
        if not low <= rounded <= high:
            raise EncodeError(f"{value} does not fit in {point.type} (raw {rounded} outside {low}..{high})")
        return rounded
    if point.type == DataType.FLOAT32 and abs(raw) > 3.4028234663852886e38:
        raise EncodeError(f"{value} does not fit in float32")
    return float(raw)


def with_bit(register: int, point: RegisterPoint, on: bool) -> int:
    """The register (as read) with the point's bit set or cleared, ready to write back."""
    ordered = from_wire_order([register], point)[0]
    mask = 1 << (point.bit or 0)
    changed = ordered | mask if on else ordered & ~mask
    return to_wire_order([changed], point)[0]
