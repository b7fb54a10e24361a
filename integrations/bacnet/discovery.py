"""Who-Is, collect every I-Am for a window, then scan each device that answered, reporting progress.

A global Who-Is goes to the subnet's broadcast address (bacpypes3 maps a global broadcast onto the
local one); `request.addresses` get a unicast Who-Is each instead, for devices behind routers that
drop broadcasts or on loopback. The first tenth of the progress is the listening window, the rest
is split between the devices being scanned.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from bacpypes3.apdu import IAmRequest
from bacpypes3.basetypes import Segmentation
from bacpypes3.pdu import Address

from hub.integration import DiscoveryEvent, DiscoveryProgress, DiscoveryRequest

from .client import Client, Peer, RequestFailed
from .scan import ScannedDevice, scan_device

LISTEN_PERCENT = 10.0


@dataclass(frozen=True)
class Found:
    """A device that answered a Who-Is."""

    instance: int
    address: Address
    max_apdu: int
    segmented: bool


async def who_is(client: Client, request: DiscoveryRequest, window: float) -> list[Found]:
    """Every device that answered within `window`, by instance (a unicast Who-Is per listed address)."""
    app = client.app
    low, high = request.low_instance, request.high_instance
    if low is not None or high is not None:
        low, high = low or 0, 4194303 if high is None else high
    if request.addresses:
        asked = [app.who_is(low, high, Address(a), timeout=window) for a in request.addresses]  # type: ignore[arg-type]
        answers = [i for found in await asyncio.gather(*asked) for i in found]
    else:
        answers = await app.who_is(low, high, timeout=window)  # type: ignore[arg-type]
    by_instance = {found_from(i).instance: found_from(i) for i in answers}
    return [by_instance[k] for k in sorted(by_instance)]


def found_from(i_am: IAmRequest) -> Found:
    """The device an I-Am announces."""
    segmented = i_am.segmentationSupported in (Segmentation.segmentedBoth, Segmentation.segmentedTransmit)
    return Found(i_am.iAmDeviceIdentifier[1], i_am.pduSource, int(i_am.maxAPDULengthAccepted), segmented)


async def discover(
    client: Client,
    request: DiscoveryRequest,
    window: float,
    peer_for: Callable[[Found], Peer],
    found: Callable[[ScannedDevice], DiscoveryEvent],
) -> AsyncIterator[DiscoveryEvent]:
    """Yield progress, and `found(scan)` for every device that answered and could be scanned."""
    where = ", ".join(request.addresses) or "broadcast"
    yield DiscoveryProgress(0.0, message=f"Who-Is ({where}), listening {window:g} s")
    answered = await who_is(client, request, window)
    yield DiscoveryProgress(LISTEN_PERCENT, message=f"{len(answered)} devices answered")
    scanned = 0
    for number, device in enumerate(answered):
        percent = LISTEN_PERCENT + (100 - LISTEN_PERCENT) * number / len(answered)
        current = f"{device.instance} at {device.address}"
        yield DiscoveryProgress(percent, current=current, message=f"reading device {current}")
        notes: list[str] = []
        try:
            scan = await scan_device(client, peer_for(device), notes.append)
        except RequestFailed as err:
            yield DiscoveryProgress(percent, current=current, message=f"device {current}: {err.why}")
            continue
        for note in notes:
            yield DiscoveryProgress(percent, current=current, message=note)
        scanned += 1
        yield found(scan)
    failed = len(answered) - scanned
    summary = f"{scanned} devices read" + (f", {failed} did not answer the reads" if failed else "")
    yield DiscoveryProgress(100.0, message=summary)
