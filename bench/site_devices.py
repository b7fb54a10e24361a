"""Simulated BACnet/IP devices of the site benchmark: many devices in one process, values known in advance.

    python bench/site_devices.py --port 47900 --instance 5001 --count 25 --period 30

Each device is the `bms-hub simulate bacnet` device (integrations/bacnet/simulator.py: analog inputs,
commandable analog and binary values, on the next loopback port). Its analog inputs follow
`site_value()`: a step function of the wall clock, one new value every `period` seconds with a phase
of its own, so the bench can tell afterwards which values each input held and check that the hub
stored every one of them. It prints `READY <address> device <instance> objects <n>` per device.
Lines on standard input drive faults: `stop INSTANCE` closes that device's application (it stops
answering, as a device switched off), `start INSTANCE` opens it again with fresh objects (as a
device that restarted); each is answered with `stopped INSTANCE` / `started INSTANCE`.
"""

import argparse
import asyncio
import contextlib
import ipaddress
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bacpypes3.app import Application
from bacpypes3.local.object import Object

from hub.points import PointKind
from integrations.bacnet.network import Endpoint, open_application
from integrations.bacnet.scan import ScannedDevice, ScannedObject
from integrations.bacnet.simulator import RANGE, ReadOnlyInput, SimulatedApplication, build_objects

TICK_S = 1.0
_PHASES = 997


def site_value(instance: int, number: int, step: int) -> float:
    """The value analog input `number` of device `instance` holds during `step`: never its neighbours'."""
    return round(15 + number % 10 + ((step * 7 + number + instance) % 100) / 10, 1)


def phase(instance: int, number: int, period: float) -> float:
    """Seconds by which an input's steps are shifted, so the site's changes spread over the period."""
    return (instance * 131 + number * 389) % _PHASES / _PHASES * period  # neighbours far apart


def step_at(instance: int, number: int, t: float, period: float) -> int:
    """The step an input is in at epoch time `t`."""
    return math.floor((t + phase(instance, number, period)) / period)


def step_span(instance: int, number: int, step: int, period: float) -> tuple[float, float]:
    """Epoch times [start, end) of one step of an input."""
    start = step * period - phase(instance, number, period)
    return start, start + period


def scanned(instance: int, address: str, inputs: int, values: int, binaries: int) -> ScannedDevice:
    """What the hub's scan of one of these devices finds (to seed its cache: a commissioned site)."""
    degrees = {"units": "degreesCelsius", "value_type": "Real"}
    setpoint = f"({RANGE[0]:g}..{RANGE[1]:g})"
    objects = [
        *(ScannedObject("analogInput", n, f"AI-{n}", PointKind.ANALOG, f"simulated input {n}", **degrees)
          for n in range(1, inputs + 1)),
        *(ScannedObject("analogValue", n, f"AV-{n}", PointKind.ANALOG, f"setpoint {n} {setpoint}",
                        commandable=True, **degrees) for n in range(1, values + 1)),
        *(ScannedObject("binaryValue", n, f"BV-{n}", PointKind.BINARY, f"command {n}", commandable=True,
                        value_type="BinaryPV") for n in range(1, binaries + 1)),
    ]  # fmt: skip
    return ScannedDevice(
        instance,
        address,
        f"Simulated device {instance}",
        "BMS Hub",
        "bms-hub simulate bacnet",
        1476,
        False,
        tuple(objects),
    )


@dataclass
class SiteDevice:
    """One simulated device: its endpoint and, while it runs, its application and inputs."""

    instance: int
    endpoint: Endpoint
    app: Application | None = None
    inputs: list[ReadOnlyInput] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)  # each input's current step


def _objects(args: argparse.Namespace, instance: int) -> list[Object]:
    shape = argparse.Namespace(
        name="",
        max_apdu=1476,
        no_segmentation=True,  # like most field controllers: requests are split to fit one APDU
        analog_inputs=args.analog_inputs,
        analog_values=args.analog_values,
        binary_values=args.binary_values,
    )
    device, objects = build_objects(shape, instance)
    return [device, *objects]


async def start(device: SiteDevice, args: argparse.Namespace) -> None:
    """Open the device's application with fresh objects whose inputs hold their current values."""
    device_object, *objects = _objects(args, device.instance)
    device.inputs = [o for o in objects if isinstance(o, ReadOnlyInput)]
    device.steps = []
    _refresh(device, time.time(), args.period)
    device.app = await open_application(
        device.endpoint, device_object, objects, app_class=SimulatedApplication
    )


def stop(device: SiteDevice) -> None:
    if device.app is not None:
        device.app.close()
        device.app = None


def _refresh(device: SiteDevice, now: float, period: float) -> None:
    """Set the inputs whose step changed (bacpypes3 properties are slow to touch: only those)."""
    if len(device.steps) != len(device.inputs):
        device.steps = [-1] * len(device.inputs)
    for index, obj in enumerate(device.inputs):
        step = step_at(device.instance, index + 1, now, period)
        if step != device.steps[index]:
            device.steps[index] = step
            obj.presentValue = site_value(device.instance, index + 1, step)


async def drive(devices: list[SiteDevice], period: float) -> None:
    """Give every running device's inputs the value of their current step, every second."""
    while True:
        now = time.time()
        for device in devices:
            if device.app is not None:
                _refresh(device, now, period)
        await asyncio.sleep(TICK_S)


async def commands(devices: dict[int, SiteDevice], args: argparse.Namespace) -> None:
    """`stop N` / `start N` on standard input, answered on standard output."""
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        verb, _, number = line.decode().strip().partition(" ")
        device = devices.get(int(number)) if number.isdigit() else None
        if device is None or verb not in ("stop", "start"):
            print(f"unknown command {line.decode().strip()!r}", flush=True)
            continue
        if verb == "stop":
            stop(device)
        elif device.app is None:
            await start(device, args)
        print(f"{verb}ped {device.instance}" if verb == "stop" else f"started {device.instance}", flush=True)


async def serve(args: argparse.Namespace) -> None:
    interface = ipaddress.IPv4Interface("127.0.0.1/32")
    devices = [SiteDevice(args.instance + n, Endpoint(interface, args.port + n)) for n in range(args.count)]
    try:
        for device in devices:
            await start(device, args)
            objects = args.analog_inputs + args.analog_values + args.binary_values
            print(f"READY {device.endpoint.address} device {device.instance} objects {objects}", flush=True)
        await asyncio.gather(drive(devices, args.period), commands({d.instance: d for d in devices}, args))
    finally:
        for device in devices:
            stop(device)


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--port", type=int, required=True, help="the first device's UDP port on 127.0.0.1")
    cli.add_argument("--instance", type=int, required=True, help="the first device's instance")
    cli.add_argument("--count", type=int, default=1)
    cli.add_argument("--period", type=float, default=30.0, help="seconds each input holds a value")
    cli.add_argument("--analog-inputs", type=int, default=80)
    cli.add_argument("--analog-values", type=int, default=16)
    cli.add_argument("--binary-values", type=int, default=4)
    return cli


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parser().parse_args()))
