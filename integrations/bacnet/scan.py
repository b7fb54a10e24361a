"""Read what a device is and what it holds: its identity, its objectList, and each object's metadata.

A device that cannot segment cannot send a long objectList in one answer: it is then read index by
index (element 0 is the length). Results are plain frozen dataclasses that the cache stores and
that become the hub's Device and Points.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

from bacpypes3.basetypes import Segmentation
from bacpypes3.primitivedata import ObjectIdentifier, ObjectType

from hub.integration import DiscoveredDevice
from hub.points import Device, Point, PointKind

from .client import Client, Failure, Peer, RequestFailed
from .codec import COMMANDABLE_TYPES, MAYBE_COMMANDABLE_TYPES, kind_of, point_address, point_id, to_value

DOMAIN = "bacnet"
_DEVICE_PROPS = ("objectName", "vendorName", "modelName", "maxApduLengthAccepted", "segmentationSupported")
_NAME_WEIGHT = 3  # an objectName or description is several presentValues long (a too-long answer is split)
ARRAY_WEIGHT = 6  # a priorityArray: 16 values


@dataclass(frozen=True)
class ScannedObject:
    """One object that becomes a point."""

    type: str  # camelCase object type, e.g. analogInput
    instance: int
    name: str
    kind: PointKind
    description: str = ""
    units: str = ""
    commandable: bool = False
    value_type: str = ""  # the presentValue's BACnet type as read, e.g. Real


@dataclass(frozen=True)
class ScannedDevice:
    """One device as discovery found it."""

    instance: int
    address: str
    name: str
    vendor: str = ""
    model: str = ""
    max_apdu: int = 480
    segmented: bool = False
    objects: tuple[ScannedObject, ...] = ()

    def device(self, poll_interval: float, name: str = "") -> Device:
        """The hub's Device for it."""
        return Device(
            str(self.instance),
            name or self.name or f"device {self.instance}",
            DOMAIN,
            self.address,
            self.vendor,
            self.model,
            poll_interval,
        )

    def points(self) -> tuple[Point, ...]:
        """The hub's Points: each object's presentValue."""
        out = []
        for obj in self.objects:
            oid = ObjectIdentifier((ObjectType(obj.type), obj.instance))
            out.append(
                Point(
                    point_id(self.instance, oid),
                    str(self.instance),
                    obj.name,
                    obj.kind,
                    obj.units,
                    writable=obj.commandable,
                    address=point_address(oid),
                )
            )
        return tuple(out)


def from_discovered(found: DiscoveredDevice, known: ScannedDevice | None) -> ScannedDevice:
    """The scan behind a discovery result, with only its points' objects (`known`: the cached scan)."""
    objects = []
    for point in found.points:
        kind, _, instance = point.address.partition(":")
        scanned = ScannedObject(kind, int(instance), point.name, point.kind, units=point.units)
        objects.append(replace(scanned, commandable=point.writable))
    device = found.device
    scan = known or ScannedDevice(int(device.id), device.address, device.name, device.vendor, device.model)
    return replace(scan, address=device.address, objects=tuple(objects))


async def object_list(client: Client, peer: Peer, progress: Callable[[str], None] | None = None) -> list:
    """The device's objectList: in one read, or index by index when the device cannot send it whole."""
    device = ObjectIdentifier((ObjectType.device, peer.instance))
    try:
        return list(await client.read(peer, device, "objectList"))
    except RequestFailed as err:
        if err.timed_out or not err.why.startswith("abort"):
            raise
    count = int(await client.read(peer, device, "objectList", 0))
    if progress is not None:
        progress(f"device {peer.instance} cannot send its objectList of {count} whole: reading it by index")
    return await client.read_array(peer, device, "objectList", count)


async def scan_device(
    client: Client, peer: Peer, progress: Callable[[str], None] | None = None
) -> ScannedDevice:
    """Read the device's identity, segmentation and objects; RequestFailed when it does not answer."""
    device = ObjectIdentifier((ObjectType.device, peer.instance))
    props = await client.read_many(peer, [device], _DEVICE_PROPS, _NAME_WEIGHT)
    ident = {prop: props.get((device, prop)) for prop in _DEVICE_PROPS}
    if isinstance(ident["maxApduLengthAccepted"], int):
        peer.max_apdu = int(ident["maxApduLengthAccepted"])
    if not isinstance(ident["segmentationSupported"], Failure | None):
        peer.segmented = ident["segmentationSupported"] in (
            Segmentation.segmentedBoth,
            Segmentation.segmentedTransmit,
        )
    oids = [ObjectIdentifier(o) for o in await object_list(client, peer, progress)]
    wanted = [oid for oid in oids if kind_of(oid) is not None]
    meta = await client.read_many(peer, wanted, ("objectName", "description"), _NAME_WEIGHT)
    values = await client.read_many(peer, wanted, ("presentValue",))
    analog = [oid for oid in wanted if kind_of(oid) == PointKind.ANALOG]
    units = await client.read_many(peer, analog, ("units",)) if analog else {}
    maybe = [oid for oid in wanted if oid[0].attr in MAYBE_COMMANDABLE_TYPES]
    arrays = await client.read_many(peer, maybe, ("priorityArray",), ARRAY_WEIGHT) if maybe else {}
    objects = []
    for oid in wanted:
        name, description = meta.get((oid, "objectName")), meta.get((oid, "description"))
        unit, value = units.get((oid, "units")), values.get((oid, "presentValue"))
        commandable = oid[0].attr in COMMANDABLE_TYPES or not isinstance(
            arrays.get((oid, "priorityArray"), Failure("")), Failure
        )
        objects.append(
            ScannedObject(
                oid[0].attr,
                oid[1],
                _text(name) or point_address(oid),
                kind_of(oid),  # type: ignore[arg-type]
                _text(description),
                _text(unit),
                commandable,
                "" if isinstance(value, Failure | None) else type(value).__name__,
            )
        )
    return ScannedDevice(
        peer.instance,
        str(peer.address),
        _text(ident["objectName"]),
        _text(ident["vendorName"]),
        _text(ident["modelName"]),
        peer.max_apdu,
        peer.segmented,
        tuple(objects),
    )


def _text(value: object) -> str:
    if value is None or isinstance(value, Failure):
        return ""
    attr = getattr(value, "attr", None)  # enumerations: their BACnet name
    return str(attr) if isinstance(attr, str) else str(to_value(value))
