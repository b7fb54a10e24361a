"""`bms-hub simulate modbus`: a simulated Modbus TCP device serving a profile, for tests and for practice.

    bms-hub simulate modbus --profile energy_meter --port 5020 --unit 1 --word-order little

Prints `listening on HOST:PORT` when it accepts connections (with `--port 0` the port is chosen
freely). It counts every request it receives; a line `stats` on standard input prints the counts
as one JSON line (`reset` prints and zeroes them), which is how tests prove the hub's read planning.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from pymodbus.constants import ExcCodes
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice

from hub.config import ConfigError

from .model import Order, Table
from .profiles import build_point, built_in_profiles, open_profile
from .sim_store import Fault, SimStore

MAX_UNIT = 255


class RequestCounter:
    """Counts the requests the server receives, by function code (a pymodbus trace_pdu hook)."""

    def __init__(self) -> None:
        self.by_function: Counter[int] = Counter()

    def __call__(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if not sending:
            self.by_function[pdu.function_code] += 1
        return pdu

    def snapshot(self) -> dict[str, object]:
        return {
            "requests": sum(self.by_function.values()),
            "by_function": dict(sorted(self.by_function.items())),
        }


def _units(text: str) -> list[int]:
    low, _, high = text.partition("-")
    try:
        first, last = int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a unit id or a range like 1-20, got {text!r}") from None
    if not 0 <= first <= last <= MAX_UNIT:
        raise argparse.ArgumentTypeError(f"expected unit ids between 0 and {MAX_UNIT}, got {text!r}")
    return list(range(first, last + 1))


def _fault(text: str) -> Fault:
    where, _, code = text.partition("=")
    table, _, address = where.partition(":")
    try:
        return Fault(Table(table), int(address), ExcCodes(int(code)))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected TABLE:ADDRESS=CODE like holding:40=4, got {text!r}"
        ) from None


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="bms-hub simulate modbus", description=__doc__.split("\n")[0])
    known = ", ".join(built_in_profiles())
    parse.add_argument("--profile", default="energy_meter", help=f"built-in ({known}) or a profile YAML file")
    parse.add_argument("--host", default="127.0.0.1")
    parse.add_argument("--port", type=int, default=5020, help="0 picks a free port")
    parse.add_argument(
        "--unit", type=_units, action="append", help="unit id or range (repeatable; default 1)"
    )
    parse.add_argument("--word-order", choices=[o.value for o in Order], help="override the profile's")
    parse.add_argument("--byte-order", choices=[o.value for o in Order], help="override the profile's")
    parse.add_argument(
        "--fault", type=_fault, action="append", default=[], help="TABLE:ADDRESS=CODE, repeatable"
    )
    parse.add_argument(
        "--holes", action="store_true", help="refuse addresses between points (illegal address)"
    )
    parse.add_argument("--verbose", action="store_true", help="log every request (pymodbus debug log)")
    return parse


async def serve(args: argparse.Namespace, store: SimStore) -> None:
    """Serve until SIGTERM/SIGINT, answering `stats`/`reset` lines on standard input."""
    counter = RequestCounter()
    placeholder = SimDevice(0, [SimData(0, datatype=SimType.REGISTERS)])  # replaced by our store below
    server = ModbusTcpServer(placeholder, address=(args.host, args.port), trace_pdu=counter)
    server.context = store  # type: ignore[assignment]  # the server only calls the three datastore methods
    await server.serve_forever(background=True)
    host, port = server.transport.sockets[0].getsockname()[:2]  # type: ignore[union-attr]
    print(f"listening on {host}:{port} units {','.join(map(str, store.device_ids()))}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    commands = asyncio.create_task(_commands(counter))
    try:
        await stop.wait()
    finally:
        commands.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await commands
        await server.shutdown()


async def _commands(counter: RequestCounter) -> None:
    """The side channel: `stats` prints the request counts as JSON, `reset` prints and zeroes them."""
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = line.decode().strip()
        if command in ("stats", "reset"):
            print(json.dumps(counter.snapshot()), flush=True)
        if command == "reset":
            counter.by_function.clear()


def main(argv: Sequence[str]) -> int:
    """Run the simulated device; exit 2 on bad arguments or a bad profile."""
    args = parser().parse_args(list(argv))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # pymodbus logs a refused unit id or address as an error: for a simulator that is an answer, not a fault.
    logging.getLogger("pymodbus").setLevel(logging.DEBUG if args.verbose else logging.CRITICAL)
    try:
        profile = open_profile(args.profile, Path.cwd())
    except ConfigError as err:
        print(f"bms-hub simulate modbus: {err}", file=sys.stderr)
        return 2
    word, byte = args.word_order or profile.word_order, args.byte_order or profile.byte_order
    points = [build_point(raw, word and Order(word), byte and Order(byte)) for raw in profile.points]
    units = sorted({unit for group in args.unit or [[1]] for unit in group})
    asyncio.run(serve(args, SimStore(units, points, args.fault, args.holes)))
    return 0
