"""Modbus requests on a connection: read a planned block, write a point, and name exception responses."""

from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.constants import ExcCodes

from hub.points import Value

from .codec import encode, with_bit
from .connection import Connection
from .model import DataType, ModbusDevice, RegisterPoint, Table
from .planner import ReadRequest

GATEWAY_CODES = (ExcCodes.GATEWAY_NO_RESPONSE, ExcCodes.GATEWAY_PATH_UNAVIABLE)
STRUCTURAL_CODES = (ExcCodes.ILLEGAL_FUNCTION, ExcCodes.ILLEGAL_ADDRESS, ExcCodes.ILLEGAL_VALUE)
_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    5: "acknowledge",
    6: "device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target failed to respond",
}


class ExceptionAnswer(Exception):
    """The device answered a request with a Modbus exception code."""

    def __init__(self, code: int) -> None:
        self.code = code
        super().__init__(f"exception {code} ({_NAMES.get(code, 'unknown')})")


def _checked(response: Any) -> Any:
    if response.isError():
        raise ExceptionAnswer(response.exception_code)
    return response


async def read_block(connection: Connection, device: ModbusDevice, request: ReadRequest) -> list[int]:
    """The registers or bits of one planned request; ExceptionAnswer when the device refuses it."""

    async def run(client: AsyncModbusTcpClient) -> Any:
        read = {
            Table.HOLDING: client.read_holding_registers,
            Table.INPUT: client.read_input_registers,
            Table.COIL: client.read_coils,
            Table.DISCRETE: client.read_discrete_inputs,
        }[request.table]
        return await read(request.address, count=request.count, device_id=device.unit)

    response = _checked(await connection.call(run))
    return list(response.bits[: request.count]) if request.table.is_bits else list(response.registers)


async def write_point(
    connection: Connection, device: ModbusDevice, point: RegisterPoint, value: Value
) -> None:
    """Write one value with the point's type, orders and scaling; a bit is read, changed and written back."""
    unit = device.unit
    registers = [] if point.type in (DataType.BOOL, DataType.BIT) else encode(value, point)

    async def run(client: AsyncModbusTcpClient) -> Any:
        if point.type == DataType.BOOL:
            return await client.write_coil(point.address, bool(value), device_id=unit)
        if point.type == DataType.BIT:  # read-modify-write inside one hold of the connection's lock
            current = _checked(await client.read_holding_registers(point.address, count=1, device_id=unit))
            changed = with_bit(current.registers[0], point, bool(value))
            return await client.write_register(point.address, changed, device_id=unit)
        if len(registers) == 1:
            return await client.write_register(point.address, registers[0], device_id=unit)
        return await client.write_registers(point.address, registers, device_id=unit)

    _checked(await connection.call(run))
