"""BACnet values, object ids and errors to and from the hub's model (point ids, Values, reasons)."""

import functools

from bacpypes3.apdu import AbortPDU, ErrorRejectAbortNack, RejectPDU
from bacpypes3.basetypes import BinaryPV, PriorityValue
from bacpypes3.constructeddata import AnyAtomic
from bacpypes3.primitivedata import (
    Atomic,
    Boolean,
    CharacterString,
    Enumerated,
    Null,
    ObjectIdentifier,
    ObjectType,
    Real,
    Unsigned,
)

from hub.points import PointKind, Value

_KINDS = {
    "analog": PointKind.ANALOG,
    "binary": PointKind.BINARY,
    "multiState": PointKind.MULTISTATE,
}
# Object types whose presentValue is always commandable (clause 19.2); *Value objects may be.
COMMANDABLE_TYPES = frozenset({"analogOutput", "binaryOutput", "multiStateOutput"})
MAYBE_COMMANDABLE_TYPES = frozenset({"analogValue", "binaryValue", "multiStateValue"})


def point_id(device_instance: int, object_id: ObjectIdentifier) -> str:
    """`12345.analogInput.1`: the hub's stable id of one object's presentValue."""
    return f"{device_instance}.{object_id[0].attr}.{object_id[1]}"


@functools.cache  # every poll needs every point's, and a bacpypes3 object is slow to make
def object_id(point_address: str) -> ObjectIdentifier:
    """The object a point reads, from its `analogInput:1` address."""
    kind, _, instance = point_address.partition(":")
    return ObjectIdentifier((ObjectType(kind), int(instance)))


def point_address(oid: ObjectIdentifier) -> str:
    """`analogInput:1`: what a Point's `address` holds."""
    return f"{oid[0].attr}:{oid[1]}"


def kind_of(oid: ObjectIdentifier) -> PointKind | None:
    """The hub's kind for an object type with a presentValue worth a point; None for the others."""
    name = oid[0].attr
    for prefix, kind in _KINDS.items():
        if name.startswith(prefix) and name.endswith(("Input", "Output", "Value")):
            return kind
    if name in ("characterstringValue", "largeAnalogValue", "integerValue", "positiveIntegerValue"):
        return PointKind.STRING if name == "characterstringValue" else PointKind.ANALOG
    return None


def to_value(value: object) -> Value:
    """A decoded BACnet value as a hub Value (binary active is True, enumerations their number)."""
    if isinstance(value, PriorityValue):
        return to_value(getattr(value, value._choice)) if value._choice != "null" else None
    if isinstance(value, AnyAtomic):
        return to_value(value.get_value())
    if value is None or isinstance(value, Null):
        return None
    if isinstance(value, BinaryPV):
        return value == BinaryPV.active
    if isinstance(value, Boolean):
        return bool(value)
    if isinstance(value, Enumerated):
        return int(value)
    if isinstance(value, Real | float):
        return float(value)
    if isinstance(value, Unsigned | int):
        return int(value)
    return str(value)  # CharacterString, BitString, dates: as text


def to_bacnet(kind: PointKind, value: Value) -> Atomic:
    """The BACnet value to write for a point of `kind` (None relinquishes: Null)."""
    if value is None:
        return Null(())
    if kind == PointKind.BINARY:
        return BinaryPV(BinaryPV.active if value else BinaryPV.inactive)
    if kind == PointKind.MULTISTATE:
        return Unsigned(int(value))
    if kind == PointKind.STRING:
        return CharacterString(str(value))
    return Real(float(value))  # type: ignore[arg-type]


def reason(err: BaseException) -> str:
    """What the device said, as `error-code`, `reject: reason` or `abort: reason`."""
    if isinstance(err, RejectPDU):
        return f"reject: {err.apduAbortRejectReason}"
    if isinstance(err, AbortPDU):
        return f"abort: {err.apduAbortRejectReason}"
    code = getattr(err, "errorCode", None)
    if code is not None:
        return str(code)
    if isinstance(err, TimeoutError):
        return "timeout"
    return str(err) or type(err).__name__


def is_segmentation_refusal(err: ErrorRejectAbortNack) -> bool:
    """The device cannot send (or we cannot take) the answer in one APDU."""
    why = str(getattr(err, "apduAbortRejectReason", ""))
    return why in ("segmentation-not-supported", "buffer-overflow", "apdu-too-long")
