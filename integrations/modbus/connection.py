"""One TCP connection per host and port, shared by the devices (unit ids) behind it, one request at a time.

Many gateways and meters serve one request at a time, so a lock serialises the requests on a
connection. A dead connection is dropped and opened again on the next request, no sooner than an
exponential backoff allows, so that the devices behind one unreachable gateway do not each hammer it.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusIOException

from hub.integration import DeviceError

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0

Operation = Callable[[AsyncModbusTcpClient], Awaitable[Any]]


class Connection:
    """A host's connection: connect on demand, one request at a time, reconnect with backoff."""

    def __init__(
        self, host: str, port: int, timeout: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._clock = clock
        self._client: AsyncModbusTcpClient | None = None
        self._lock = asyncio.Lock()
        self.failures = 0  # consecutive failed connects or dropped connections
        self._retry_at = 0.0
        self.last_error: str | None = None
        self.requests = 0

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    async def call(self, operation: Operation) -> Any:
        """Run one request; DeviceError when the connection cannot be made or the device does not answer."""
        async with self._lock:
            client = await self._connect()
            self.requests += 1
            try:
                return await operation(client)
            except ModbusIOException as err:  # no answer in time: the unit may be gone, the link may be fine
                if not client.connected:
                    self._fail(f"connection to {self.name} lost")
                    raise DeviceError(self.last_error) from err
                raise DeviceError(f"no answer from {self.name} within {self.timeout:g} s") from err
            except (ConnectionException, OSError) as err:
                self._fail(f"connection to {self.name} lost ({err})")
                raise DeviceError(self.last_error) from err

    async def _connect(self) -> AsyncModbusTcpClient:
        if self._client is not None and self._client.connected:
            return self._client
        self._drop()
        wait = self._retry_at - self._clock()
        if wait > 0:
            raise DeviceError(f"{self.last_error}; next try in {wait:.1f} s")
        client = AsyncModbusTcpClient(
            self.host, port=self.port, timeout=self.timeout, retries=0, reconnect_delay=0
        )
        if not await client.connect():
            client.close()
            self._fail(f"cannot connect to {self.name}")
            raise DeviceError(self.last_error)
        self._client, self.failures, self.last_error = client, 0, None
        return client

    def _fail(self, reason: str) -> None:
        self._drop()
        self.failures += 1
        self.last_error = reason
        self._retry_at = self._clock() + min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (self.failures - 1))

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def close(self) -> None:
        """Close the connection (the integration is stopping)."""
        self._drop()
