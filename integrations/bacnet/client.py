"""Requests to one BACnet device: bounded in time and concurrency, batched by what the device can take.

A ReadPropertyMultiple is sized from the device's max APDU and segmentation support (an oversized
one aborts); a device that rejects RPM is read property by property from then on. Errors come back
per property as `Failure`s, so one unknown object never spoils the others. bacpypes3 raises
`ErrorRejectAbortNack`, a BaseException: it is caught here and nowhere else.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bacpypes3.apdu import ErrorRejectAbortNack, RejectPDU
from bacpypes3.app import Application
from bacpypes3.basetypes import ErrorType, PropertyReference
from bacpypes3.pdu import Address
from bacpypes3.primitivedata import ObjectIdentifier, PropertyIdentifier

from .codec import is_segmentation_refusal, reason

T = TypeVar("T")

# Bytes one object's presentValue takes in an RPM answer (id, tags, property, a Real or an error),
# and the fixed part of the answer: conservative so that a batch always fits.
_BYTES_PER_VALUE = 24
_APDU_OVERHEAD = 16
_SEGMENTS = 16  # segments we rely on a segmenting device to send (bacpypes3 aborts beyond that)
MAX_OBJECTS_PER_RPM = 250
_RPM_UNSUPPORTED = ("unrecognized-service", "service-request-denied")


class RequestFailed(Exception):
    """A request got an error, reject or abort (the BACnet reason), or no answer in time ('timeout')."""

    def __init__(self, why: str, cause: BaseException | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.cause = cause

    @property
    def timed_out(self) -> bool:
        return self.why == "timeout"


@dataclass(frozen=True)
class Failure:
    """A property the device answered with an error."""

    reason: str


@dataclass
class Peer:
    """One device as the client knows it: where, how big an answer it can send, whether RPM works."""

    instance: int
    address: Address
    max_apdu: int = 480
    segmented: bool = False
    rpm: bool = True
    limit: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))

    @property
    def objects_per_rpm(self) -> int:
        """How many objects' presentValue one RPM may ask for without the answer being too long."""
        room = self.max_apdu * (_SEGMENTS if self.segmented else 1) - _APDU_OVERHEAD
        return max(1, min(MAX_OBJECTS_PER_RPM, room // _BYTES_PER_VALUE))


PropertyKey = tuple[ObjectIdentifier, str]


class Client:
    """Sends requests through one application, each bounded by `timeout` and the peer's concurrency limit."""

    def __init__(self, app: Application, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def call(self, peer: Peer, request: Callable[[], Awaitable[T]]) -> T:
        """Run one request; RequestFailed says what the device answered instead (or 'timeout')."""
        async with peer.limit:
            try:
                async with asyncio.timeout(self.timeout):
                    return await request()
            except TimeoutError as err:
                raise RequestFailed("timeout", err) from None
            except ErrorRejectAbortNack as err:
                raise RequestFailed(reason(err), err) from None

    async def read(self, peer: Peer, oid: ObjectIdentifier, prop: str, index: int | None = None) -> Any:
        """One ReadProperty."""
        return await self.call(
            peer, lambda: self.app.read_property(peer.address, oid, prop, array_index=index)
        )

    async def write(
        self, peer: Peer, oid: ObjectIdentifier, prop: str, value: Any, priority: int | None = None
    ) -> None:
        """One WriteProperty; RequestFailed carries the device's reason for a refusal."""
        await self.call(
            peer, lambda: self.app.write_property(peer.address, oid, prop, value, priority=priority)
        )

    async def read_many(
        self, peer: Peer, objects: Sequence[ObjectIdentifier], props: Sequence[str], weight: int = 1
    ) -> dict[PropertyKey, Any]:
        """`props` (camelCase) of every object: values or Failures; RequestFailed only if nothing answered.

        `weight` is how many presentValues one property's answer may be as long as (names, arrays).

        Requests run concurrently up to the peer's limit; a request that timed out leaves its
        properties as Failure('timeout') unless every request timed out.
        """
        per = max(1, peer.objects_per_rpm // max(1, len(props) * weight))
        chunks = [objects[i : i + per] for i in range(0, len(objects), per)]
        results = await asyncio.gather(*(self._read_chunk(peer, chunk, props) for chunk in chunks))
        merged: dict[PropertyKey, Any] = {}
        for part in results:
            merged.update(part)
        if merged and all(isinstance(v, Failure) and v.reason == "timeout" for v in merged.values()):
            raise RequestFailed("timeout")
        return merged

    async def read_array(self, peer: Peer, oid: ObjectIdentifier, prop: str, count: int) -> list[Any]:
        """Elements 1..count of an array property, many indexes per RPM (or one ReadProperty each)."""
        indexes = list(range(1, count + 1))
        if peer.rpm:
            per = peer.objects_per_rpm
            try:
                parts = await asyncio.gather(
                    *(self._rpm_indexes(peer, oid, prop, indexes[i : i + per]) for i in range(0, count, per))
                )
                return [value for part in parts for value in part]
            except RequestFailed as err:
                if err.timed_out:
                    raise
        return list(await asyncio.gather(*(self.read(peer, oid, prop, i) for i in indexes)))

    async def _rpm_indexes(
        self, peer: Peer, oid: ObjectIdentifier, prop: str, indexes: list[int]
    ) -> list[Any]:
        refs = [PropertyReference(propertyIdentifier=prop, propertyArrayIndex=i) for i in indexes]
        answer = await self.call(peer, lambda: self.app.read_property_multiple(peer.address, [oid, refs]))
        values = {index: value for _oid, _prop, index, value in answer}
        missing = [i for i in indexes if i not in values or isinstance(values[i], ErrorType)]
        if missing:
            raise RequestFailed(f"element {missing[0]} of {prop} was not answered")
        return [values[i] for i in indexes]

    async def _read_chunk(
        self, peer: Peer, objects: Sequence[ObjectIdentifier], props: Sequence[str]
    ) -> dict[PropertyKey, Any]:
        if peer.rpm:
            try:
                return await self._rpm(peer, objects, props)
            except RequestFailed as err:
                if err.timed_out:
                    return dict.fromkeys(((o, p) for o in objects for p in props), Failure("timeout"))
                if isinstance(err.cause, RejectPDU) or err.why in _RPM_UNSUPPORTED:
                    peer.rpm = False
                elif is_segmentation_refusal(err.cause) and len(objects) > 1:  # type: ignore[arg-type]
                    half = len(objects) // 2
                    first = await self._read_chunk(peer, objects[:half], props)
                    return first | await self._read_chunk(peer, objects[half:], props)
                # otherwise read one by one: each property gets its own reason
        pairs = [(o, p) for o in objects for p in props]
        values = await asyncio.gather(*(self._single(peer, o, p) for o, p in pairs))
        return dict(zip(pairs, values, strict=True))

    async def _rpm(
        self, peer: Peer, objects: Sequence[ObjectIdentifier], props: Sequence[str]
    ) -> dict[PropertyKey, Any]:
        # One PropertyReference list shared by every object: bacpypes3 would otherwise parse each
        # property name of each object into a new one (a tenth of a 1,000-object cycle's CPU).
        refs = [PropertyReference(propertyIdentifier=prop) for prop in props]
        spec: list[Any] = []
        for oid in objects:
            spec.extend((oid, refs))
        answer = await self.call(peer, lambda: self.app.read_property_multiple(peer.address, spec))
        names = {int(ref.propertyIdentifier): ref.propertyIdentifier.attr for ref in refs}
        out: dict[PropertyKey, Any] = {}
        for oid, prop, _index, value in answer:
            key = (oid, names.get(prop) or PropertyIdentifier(prop).attr)
            out[key] = Failure(str(value.errorCode)) if isinstance(value, ErrorType) else value
        if len(out) < len(objects) * len(refs):  # a device that left a property out of its answer
            for oid in objects:
                for name in names.values():
                    out.setdefault((oid, name), Failure("not in the answer"))
        return out

    async def _single(self, peer: Peer, oid: ObjectIdentifier, prop: str) -> Any:
        try:
            return await self.read(peer, oid, prop)
        except RequestFailed as err:
            return Failure(err.why)
