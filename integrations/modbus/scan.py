"""Scan a unit-id range on a host: a unit that answers a read at all (data or exception) is there.

"Gateway target failed to respond", a gateway's other exception and silence mean no unit. The
scan stops at the request's timeout and says how far it got.
"""

import asyncio
from collections.abc import AsyncIterator

from pymodbus.client import AsyncModbusTcpClient

from hub.integration import DeviceError, DiscoveredDevice, DiscoveryEvent, DiscoveryProgress, DiscoveryRequest
from hub.points import Device

from .connection import Connection
from .model import DEFAULT_PORT, DOMAIN
from .requests import GATEWAY_CODES

FIRST_UNIT, LAST_UNIT = 1, 247  # the unit ids a serial line behind a gateway can use
PROBE_TIMEOUT_S = 1.0


def _endpoint(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":") if ":" in address else (address, "", "")
    return host, int(port) if port.isdigit() else DEFAULT_PORT


def scanned_device(host: str, port: int, unit: int) -> Device:
    """A unit found by a scan, with an id that says where it is."""
    slug = f"{host}-{port}-unit{unit}".replace(".", "-").replace(":", "-")
    return Device(f"modbus-{slug}", f"Modbus unit {unit} at {host}:{port}", DOMAIN, f"{host}:{port}/{unit}")


async def _answers(connection: Connection, unit: int) -> bool:
    async def probe(client: AsyncModbusTcpClient) -> object:
        return await client.read_holding_registers(0, count=1, device_id=unit)

    response = await connection.call(probe)
    return not response.isError() or response.exception_code not in GATEWAY_CODES


async def scan_units(request: DiscoveryRequest) -> AsyncIterator[DiscoveryEvent]:
    """Probe each unit id of the range on each address ("host" or "host:port")."""
    low = FIRST_UNIT if request.low_instance is None else request.low_instance
    high = LAST_UNIT if request.high_instance is None else request.high_instance
    if not 0 <= low <= high <= 255:
        yield DiscoveryProgress(100.0, message=f"unit ids {low}..{high}: expected a range within 0..255")
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + request.timeout
    units = range(low, high + 1)
    total, done = len(units) * len(request.addresses), 0
    for address in request.addresses:
        host, port = _endpoint(address)
        connection = Connection(host, port, min(PROBE_TIMEOUT_S, request.timeout))
        try:
            for unit in units:
                if loop.time() >= deadline:
                    yield DiscoveryProgress(100.0, message=f"timed out after {done} of {total} unit ids")
                    return
                try:
                    found = await _answers(connection, unit)
                except DeviceError as err:
                    if not connection.connected:
                        yield DiscoveryProgress(100.0 * done / total, current=address, message=str(err))
                        done += len(units) - (unit - low)
                        break
                    found = False
                done += 1
                if found:
                    yield DiscoveredDevice(scanned_device(host, port, unit))
                yield DiscoveryProgress(100.0 * done / total, current=f"{host}:{port}/{unit}")
        finally:
            connection.close()
