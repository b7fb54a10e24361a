"""The simulated device's memory: a profile's points encoded into registers and bits, served to pymodbus.

Addresses past the last point of a table (and, with `holes`, between points) answer "illegal data
address", like a real device; configured faults answer
their exception code for any request that touches them; a unit id that is not simulated answers
"gateway target failed to respond". Writes land in memory, so what is written is read back.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException

from hub.points import Value

from .codec import encode, with_bit
from .model import DataType, RegisterPoint, Table

READ_TABLES = {1: Table.COIL, 2: Table.DISCRETE, 3: Table.HOLDING, 4: Table.INPUT}
WRITE_TABLES = {5: Table.COIL, 15: Table.COIL, 6: Table.HOLDING, 16: Table.HOLDING}


@dataclass(frozen=True)
class Fault:
    """Answer `code` to every request touching `address` of `table`."""

    table: Table
    address: int
    code: ExcCodes


def memory_of(points: Iterable[RegisterPoint], holes: bool = False) -> dict[Table, dict[int, int]]:
    """Each table's cells (register values, or 0/1 for bits) holding the points' simulated values.

    Addresses between points read as 0 unless `holes`: then only the points' own addresses exist.
    """
    points = list(points)
    memory: dict[Table, dict[int, int]] = {table: {} for table in Table}
    if not holes:
        for table in Table:
            ends = [p.end for p in points if p.table == table]
            memory[table] = dict.fromkeys(range(max(ends, default=0)), 0)
    for point in points:
        cells = memory[point.table]
        if point.type == DataType.BOOL:
            cells[point.address] = int(bool(point.simulate))
        elif point.type == DataType.BIT:
            cells[point.address] = with_bit(cells.get(point.address, 0), point, bool(point.simulate))
        else:
            for offset, register in enumerate(encode(_value(point), point)):
                cells[point.address + offset] = register
    return memory


def _value(point: RegisterPoint) -> Value:
    if point.simulate is not None:
        return point.simulate
    return "" if point.type == DataType.STRING else 0


class SimStore:
    """Duck-types pymodbus' server datastore (device_ids, async_getValues, async_setValues)."""

    def __init__(
        self,
        units: Sequence[int],
        points: Iterable[RegisterPoint],
        faults: Iterable[Fault] = (),
        holes: bool = False,
    ) -> None:
        template = memory_of(points, holes)
        self.units = {unit: {table: dict(cells) for table, cells in template.items()} for unit in units}
        self.faults: Mapping[tuple[Table, int], ExcCodes] = {(f.table, f.address): f.code for f in faults}

    def device_ids(self) -> list[int]:
        return list(self.units)

    def _cells(self, unit: int, table: Table, address: int, count: int) -> dict[int, int] | ExcCodes:
        memory = self.units.get(unit)
        if memory is None:
            raise NoSuchIdException(f"unit {unit} is not simulated")
        cells = memory[table]
        for cell in range(address, address + count):
            code = self.faults.get((table, cell))
            if code is not None:
                return code
            if cell not in cells:
                return ExcCodes.ILLEGAL_ADDRESS
        return cells

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list | ExcCodes:
        table = READ_TABLES.get(func_code) or WRITE_TABLES[func_code]
        cells = self._cells(device_id, table, address, count)
        if isinstance(cells, ExcCodes):
            return cells
        values = [cells[cell] for cell in range(address, address + count)]
        return [bool(v) for v in values] if table.is_bits else values

    async def async_setValues(
        self, device_id: int, func_code: int, address: int, values: list
    ) -> ExcCodes | None:
        table = WRITE_TABLES[func_code]
        cells = self._cells(device_id, table, address, len(values))
        if isinstance(cells, ExcCodes):
            return cells
        for offset, value in enumerate(values):
            cells[address + offset] = int(value)
        return None
