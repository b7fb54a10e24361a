"""What a Modbus register map says: tables, data types, orders, points and devices, as frozen values."""

from dataclasses import dataclass
from enum import StrEnum

from hub.points import PointKind

DOMAIN = "modbus"
DEFAULT_PORT = 502
MAX_REGISTERS = 125  # most registers one read request may carry (Modbus spec)
MAX_BITS = 2000  # most coils or discrete inputs one read request may carry
MAX_WRITE_REGISTERS = 123  # most registers one write-multiple request may carry
ADDRESS_SPACE = 65536


class Table(StrEnum):
    HOLDING = "holding"
    INPUT = "input"
    COIL = "coil"
    DISCRETE = "discrete"

    @property
    def is_bits(self) -> bool:
        return self in (Table.COIL, Table.DISCRETE)

    @property
    def is_writable(self) -> bool:
        return self in (Table.HOLDING, Table.COIL)

    @property
    def request_limit(self) -> int:
        return MAX_BITS if self.is_bits else MAX_REGISTERS


class DataType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    STRING = "string"
    BIT = "bit"  # one bit of a holding or input register
    BOOL = "bool"  # a coil or discrete input

    @property
    def registers(self) -> int:
        """Registers one value takes (a string's length is set per point)."""
        return _REGISTERS.get(self, 1)

    @property
    def is_integer(self) -> bool:
        return self in _INTEGER_RANGES

    @property
    def integer_range(self) -> tuple[int, int]:
        return _INTEGER_RANGES[self]


_REGISTERS = {
    DataType.INT32: 2,
    DataType.UINT32: 2,
    DataType.FLOAT32: 2,
    DataType.INT64: 4,
    DataType.FLOAT64: 4,
}
_INTEGER_RANGES = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
    DataType.INT64: (-(2**63), 2**63 - 1),
}


class Order(StrEnum):
    BIG = "big"
    LITTLE = "little"


@dataclass(frozen=True)
class RegisterPoint:
    """One point of a register map: where it lives, how its bits make a value, and how it may be written."""

    name: str
    table: Table
    address: int
    type: DataType
    length: int = 1  # registers of a string; 1 otherwise unless the type says more
    bit: int | None = None  # which bit of the register, for DataType.BIT
    word_order: Order = Order.BIG  # BIG: the first register holds the most significant word
    byte_order: Order = Order.BIG  # BIG: the first byte of a register is its most significant
    scale: float = 1.0
    offset: float = 0.0
    units: str = ""
    writable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    simulate: float | int | bool | str | None = None  # what `bms-hub simulate modbus` serves

    @property
    def count(self) -> int:
        """Registers (or bits, for coils and discrete inputs) the point occupies."""
        if self.type == DataType.STRING:
            return self.length
        return self.type.registers

    @property
    def end(self) -> int:
        return self.address + self.count

    @property
    def kind(self) -> PointKind:
        if self.type in (DataType.BIT, DataType.BOOL):
            return PointKind.BINARY
        if self.type == DataType.STRING:
            return PointKind.STRING
        return PointKind.ANALOG

    @property
    def scaled(self) -> bool:
        return self.scale != 1 or self.offset != 0

    @property
    def location(self) -> str:
        """Where the point lives, as Point.address shows it: `holding:40`, `holding:7.3` for a bit."""
        bit = f".{self.bit}" if self.bit is not None else ""
        return f"{self.table}:{self.address}{bit}"


@dataclass(frozen=True)
class ModbusDevice:
    """One Modbus TCP device (a unit id behind a host and port) and its register map."""

    id: str
    name: str
    host: str
    port: int
    unit: int
    timeout: float
    poll_interval: float
    max_gap: int  # registers (or bits) a read may bridge to save a request
    points: tuple[RegisterPoint, ...]

    @property
    def endpoint(self) -> tuple[str, int]:
        return (self.host, self.port)
