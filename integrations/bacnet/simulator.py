"""`bms-hub simulate bacnet`: a simulated BACnet/IP device, for tests and for practising without hardware.

Analog inputs drift (and push COV), analog and binary values are commandable with a real priority
array; analog values refuse a value outside 0..100 (value-out-of-range) and inputs refuse writes
(write-access-denied), the way field controllers answer. It prints `READY <address> device
<instance> objects <n>` once its socket is bound, so callers wait for that line instead of a fixed
time. It can act as a BBMD that accepts foreign-device registrations, run `--count` devices in one
process, or serve the simulator integration's site model (`--scenario`, see site_sim).
"""

import argparse
import asyncio
import ipaddress
import math
import sys
import time
from collections.abc import Coroutine, Sequence
from typing import Any

from bacpypes3.app import Application
from bacpypes3.basetypes import PriorityValue
from bacpypes3.errors import PropertyError, UnrecognizedService
from bacpypes3.local.analog import AnalogInputObject, AnalogValueObjectCmd
from bacpypes3.local.binary import BinaryValueObjectCmd
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.object import Object
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import Null

from hub.config import ConfigError

from .network import VENDOR_ID, BindError, Endpoint, open_application

RANGE = (0.0, 100.0)  # what the analog values accept
TICK_S = 1.0
_COMMON = {"statusFlags": [0, 0, 0, 0], "eventState": "normal", "outOfService": False}


class ReadOnlyInput(AnalogInputObject):
    """An input: its presentValue comes from the field, never from a write."""

    async def write_property(self, attr: Any, value: Any, index: Any = None, priority: Any = None) -> None:
        if _attr(self, attr) == "presentValue":
            raise PropertyError("writeAccessDenied")
        await super().write_property(attr, value, index, priority)


class RangedValue(AnalogValueObjectCmd):
    """A commandable analog value that refuses values outside RANGE."""

    async def write_property(self, attr: Any, value: Any, index: Any = None, priority: Any = None) -> None:
        if _attr(self, attr) == "presentValue" and not isinstance(value, Null | type(None)):
            number = float(value.real if isinstance(value, PriorityValue) else value)
            if not RANGE[0] <= number <= RANGE[1]:
                raise PropertyError("valueOutOfRange")
        await super().write_property(attr, value, index, priority)


class SimulatedApplication(Application):
    """A device application that can refuse ReadPropertyMultiple or SubscribeCOV, as older controllers do."""

    refuse_rpm = False
    refuse_cov = False

    async def do_ReadPropertyMultipleRequest(self, apdu: Any) -> None:
        if self.refuse_rpm:
            raise UnrecognizedService("ReadPropertyMultiple is not supported")
        await super().do_ReadPropertyMultipleRequest(apdu)

    async def do_SubscribeCOVRequest(self, apdu: Any) -> None:
        if self.refuse_cov:
            raise UnrecognizedService("SubscribeCOV is not supported")
        await super().do_SubscribeCOVRequest(apdu)


def _attr(obj: Object, attr: Any) -> str:
    return attr if isinstance(attr, str) else obj._property_identifier_class(attr).attr


def build_objects(args: argparse.Namespace, instance: int) -> tuple[DeviceObject, list[Object]]:
    """The device object and its analog inputs, analog values and binary values."""
    device = DeviceObject(
        objectIdentifier=("device", instance),
        objectName=args.name or f"Simulated device {instance}",
        vendorIdentifier=VENDOR_ID,
        vendorName="BMS Hub",
        modelName="bms-hub simulate bacnet",
        maxApduLengthAccepted=args.max_apdu,
        segmentationSupported="noSegmentation" if args.no_segmentation else "segmentedBoth",
        maxSegmentsAccepted=64,
    )
    objects: list[Object] = []
    for n in range(1, args.analog_inputs + 1):
        objects.append(
            ReadOnlyInput(
                objectIdentifier=("analog-input", n),
                objectName=f"AI-{n}",
                description=f"simulated input {n}",
                presentValue=float(20 + n % 10),
                units="degreesCelsius",
                covIncrement=0.01,
                **_COMMON,
            )
        )
    for n in range(1, args.analog_values + 1):
        objects.append(
            RangedValue(
                objectIdentifier=("analog-value", n),
                objectName=f"AV-{n}",
                description=f"setpoint {n} ({RANGE[0]:g}..{RANGE[1]:g})",
                presentValue=21.0,
                relinquishDefault=21.0,
                units="degreesCelsius",
                covIncrement=0.01,
                **_COMMON,
            )
        )
    for n in range(1, args.binary_values + 1):
        objects.append(
            BinaryValueObjectCmd(
                objectIdentifier=("binary-value", n),
                objectName=f"BV-{n}",
                description=f"command {n}",
                presentValue="inactive",
                relinquishDefault="inactive",
                **_COMMON,
            )
        )
    return device, objects


async def drift(inputs: Sequence[ReadOnlyInput]) -> None:
    """Move each input along its own slow sine wave, once a tick."""
    started = time.monotonic()
    while True:
        elapsed = time.monotonic() - started
        for n, obj in enumerate(inputs, start=1):
            obj.presentValue = round(20 + n % 10 + math.sin(elapsed / 30 + n), 2)
        await asyncio.sleep(TICK_S)


def endpoints(args: argparse.Namespace) -> list[tuple[int, Endpoint]]:
    """Each simulated device's instance and endpoint: the next port, or with `--step ip` the next address."""
    out = []
    for n in range(args.count):
        if args.step == "ip":
            interface = ipaddress.IPv4Interface(f"{args.address.ip + n}/{args.address.network.prefixlen}")
            out.append((args.instance + n, Endpoint(interface, args.port)))
        else:
            out.append((args.instance + n, Endpoint(args.address, args.port + n)))
    return out


def generated(
    args: argparse.Namespace,
) -> tuple[list[tuple[DeviceObject, list[Object]]], Coroutine[Any, Any, None]]:
    """The generated devices (`--count` of them) and the task that makes their inputs drift."""
    devices = [build_objects(args, instance) for instance, _ in endpoints(args)]
    inputs = [o for _, objects in devices for o in objects if isinstance(o, ReadOnlyInput)]
    return devices, drift(inputs) if args.drift else asyncio.Event().wait()


def from_scenario(
    args: argparse.Namespace,
) -> tuple[list[tuple[DeviceObject, list[Object]]], Coroutine[Any, Any, None]]:
    """One device per device of the scenario's site, and the task that runs its model."""
    from . import site_sim  # the site model loads the hub's integration API: only when asked for

    simulation = site_sim.load(args.scenario, args.seed)
    built = site_sim.site_objects(simulation, args.instance)
    args.count = len(built)
    inputs = {point_id: obj for _, _, by_point in built for point_id, obj in by_point.items()}
    return [(device, objects) for device, objects, _ in built], site_sim.run_model(
        simulation, inputs, args.time_scale, TICK_S
    )


async def serve(args: argparse.Namespace) -> int:
    """Bind every device, print a ready line for each, and answer until killed."""
    try:
        devices, task = from_scenario(args) if args.scenario else generated(args)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    apps: list[Application] = []
    try:
        for n, ((instance, endpoint), (device, objects)) in enumerate(
            zip(endpoints(args), devices, strict=True)
        ):
            try:
                app = await open_application(
                    endpoint, device, objects, serve_bbmd=args.bbmd and n == 0, app_class=SimulatedApplication
                )
            except BindError as err:
                print(f"bms-hub simulate bacnet: {err}", file=sys.stderr)
                return 1
            app.refuse_rpm, app.refuse_cov = args.no_rpm, args.no_cov
            apps.append(app)
            if endpoint.interface.network.prefixlen < 32:
                app.i_am()  # like a controller that starts: a broadcast I-Am
            for address in args.announce:
                app.i_am(Address(address))
            print(f"READY {endpoint.address} device {instance} objects {len(objects)}", flush=True)
        await task
    finally:
        task.close()
        for app in apps:
            app.close()
    return 0


def _interface(value: str) -> ipaddress.IPv4Interface:
    try:
        return ipaddress.IPv4Interface(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="bms-hub simulate bacnet", description=__doc__.splitlines()[0])
    cli.add_argument("--address", type=_interface, required=True, help="ip/prefix to bind, e.g. 10.77.0.2/24")
    cli.add_argument("--port", type=int, default=47808)
    cli.add_argument("--instance", type=int, default=1001, help="device instance (the first one's)")
    cli.add_argument("--count", type=int, default=1, help="how many devices (one process)")
    cli.add_argument(
        "--step",
        choices=("port", "ip"),
        default="port",
        help="each next device: the next port or the next address",
    )
    cli.add_argument("--name", default="", help="device objectName")
    cli.add_argument("--scenario", help="serve this simulator scenario's site (built-in name or YAML file)")
    cli.add_argument("--seed", type=int, default=0, help="with --scenario: the model's seed")
    cli.add_argument("--time-scale", type=float, default=1.0, help="with --scenario: simulated s per wall s")
    cli.add_argument("--analog-inputs", type=int, default=10, metavar="N")
    cli.add_argument("--analog-values", type=int, default=4, metavar="N", help="commandable, accept 0..100")
    cli.add_argument("--binary-values", type=int, default=2, metavar="N", help="commandable")
    cli.add_argument("--max-apdu", type=int, default=1476, choices=(50, 128, 206, 480, 1024, 1476))
    cli.add_argument("--no-segmentation", action="store_true", help="like small controllers: no segmentation")
    cli.add_argument(
        "--announce", action="append", default=[], metavar="IP:PORT", help="also send the start-up I-Am here"
    )
    cli.add_argument("--no-rpm", action="store_true", help="reject ReadPropertyMultiple")
    cli.add_argument("--no-cov", action="store_true", help="reject SubscribeCOV")
    cli.add_argument("--no-drift", dest="drift", action="store_false", help="inputs keep their values")
    cli.add_argument(
        "--bbmd", action="store_true", help="the first device accepts foreign-device registrations (a BBMD)"
    )
    return cli


def main(argv: list[str]) -> int:
    """Run the simulated device until interrupted."""
    args = parser().parse_args(argv)
    try:
        return asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 0
