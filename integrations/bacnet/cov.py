"""The hub's COV subscriptions on devices: subscribe, renew before expiry, turn notifications into samples.

bacpypes3's own context manager renews in a task whose failures nobody sees, and needs a task per
object; here one supervised task renews every subscription at half its lifetime (a renewal that
fails is retried at a quarter, so a subscription that cannot be renewed runs out and is retried
from scratch). A device that restarted forgets its subscriptions: the renewal brings them back, as
does an I-Am from it (devices announce themselves when they start), and the poller calling
`subscribe` again after the device was offline. `on_held(point, held)` tells the integration
whether the device holds a point's subscription: a point is polled at the slow safety interval
only while it does, and at its normal interval once refused or lapsed (renewals unanswered).
"""

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bacpypes3.apdu import (
    ConfirmedCOVNotificationRequest,
    ErrorRejectAbortNack,
    SubscribeCOVRequest,
    UnconfirmedCOVNotificationRequest,
)
from bacpypes3.primitivedata import ObjectIdentifier, PropertyIdentifier
from bacpypes3.vendor import get_vendor_info

from hub.points import Point, Sample

from .client import Client, Peer, RequestFailed
from .codec import object_id, to_value

_LOGGER = logging.getLogger(__name__)
_MAX_PROCESS_ID = 1 << 22
_RETRY_S = 60.0  # a subscription without lifetime that failed is retried after a quarter of this


@dataclass
class Subscription:
    """One object's presentValue subscription."""

    point: Point
    peer: Peer
    oid: ObjectIdentifier
    process_id: int
    confirmed: bool
    lifetime: int  # seconds; 0 = until the device restarts
    renew_at: float = 0.0  # loop time
    expires_at: float = 0.0  # loop time the device forgets it unless renewed


class CovSubscriptions:
    """The hub's subscriptions, keyed by (device address, subscriber process id)."""

    def __init__(
        self,
        client: Client,
        report: Callable[[str, Sample], None],
        on_held: Callable[[Point, bool], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._report = report
        self._on_held = on_held
        self._clock = clock
        self._by_key: dict[tuple[str, int], Subscription] = {}
        self._by_point: dict[str, Subscription] = {}
        self._next_id = 1
        self._changed = asyncio.Event()
        self.refused: dict[str, str] = {}  # point id -> why its device refused COV (the point is polled)
        self.notifications = 0

    @property
    def active(self) -> int:
        """Subscriptions the device holds now (as far as the hub knows)."""
        now = asyncio.get_running_loop().time()
        return sum(1 for s in self._by_point.values() if s.expires_at > now)

    async def subscribe(self, peer: Peer, points: Sequence[tuple[Point, bool]], lifetime: int) -> None:
        """Subscribe each (point, confirmed) again; raise RequestFailed only when the device did not answer.

        The device's subscriptions for points no longer in `points` are no longer renewed."""
        wanted = {point.id for point, _ in points}
        self.drop([i for i, sub in self._by_point.items() if sub.peer is peer and i not in wanted])
        for point_id in [i for i in self.refused if i not in wanted and i.startswith(f"{peer.instance}.")]:
            del self.refused[point_id]  # no longer asked for: not refused either
        subs = [self._subscription(peer, point, confirmed, lifetime) for point, confirmed in points]
        results = await asyncio.gather(*(self._send(sub) for sub in subs), return_exceptions=True)
        failures = [r for r in results if isinstance(r, RequestFailed)]
        self._changed.set()
        if failures and len(failures) == len(subs) and all(f.timed_out for f in failures):
            raise RequestFailed("timeout")

    def renew_now(self, peer: Peer) -> None:
        """Renew the peer's subscriptions at once (it announced itself: it may have restarted or moved)."""
        for key, sub in list(self._by_key.items()):
            if sub.peer is peer:
                sub.renew_at = 0.0
                del self._by_key[key]  # notifications come from where the device is now
                self._by_key[(str(peer.address), sub.process_id)] = sub
        self._changed.set()

    def drop(self, point_ids: Sequence[str]) -> None:
        """Stop renewing these points' subscriptions (they expire on the device)."""
        for point_id in point_ids:
            sub = self._by_point.pop(point_id, None)
            if sub is not None:
                self._by_key.pop((str(sub.peer.address), sub.process_id), None)

    async def run(self) -> None:
        """Renew subscriptions when due; what the supervisor runs."""
        loop = asyncio.get_running_loop()
        while True:
            self._changed.clear()
            now = loop.time()
            due = [s for s in self._by_point.values() if s.renew_at <= now]
            if due:
                await asyncio.gather(*(self._send(sub) for sub in due), return_exceptions=True)
                continue
            timed = [s.renew_at for s in self._by_point.values() if s.renew_at != math.inf]
            try:
                async with asyncio.timeout((min(timed) - now) if timed else None):
                    await self._changed.wait()
            except TimeoutError:
                pass

    def notified(self, apdu: ConfirmedCOVNotificationRequest | UnconfirmedCOVNotificationRequest) -> bool:
        """Hand a notification's presentValue to the hub; False when it is not one of ours."""
        sub = self._by_key.get((str(apdu.pduSource), apdu.subscriberProcessIdentifier))
        if sub is None or apdu.monitoredObjectIdentifier != sub.oid:
            return False
        self.notifications += 1
        kind = get_vendor_info(0).get_object_class(sub.oid[0])
        for element in apdu.listOfValues:
            if PropertyIdentifier(element.propertyIdentifier).attr != "presentValue":
                continue
            value = element.value.cast_out(kind.get_property_type("presentValue"))
            self._report(sub.point.id, Sample(to_value(value), self._clock()))
        return True

    def _subscription(self, peer: Peer, point: Point, confirmed: bool, lifetime: int) -> Subscription:
        sub = self._by_point.get(point.id)
        if sub is not None and sub.peer is peer and (sub.confirmed, sub.lifetime) == (confirmed, lifetime):
            return sub
        self.drop([point.id])
        while (str(peer.address), self._next_id) in self._by_key:
            self._next_id = self._next_id % (_MAX_PROCESS_ID - 1) + 1
        sub = Subscription(point, peer, object_id(point.address), self._next_id, confirmed, lifetime)
        self._next_id = self._next_id % (_MAX_PROCESS_ID - 1) + 1
        self._by_key[(str(peer.address), sub.process_id)] = sub
        self._by_point[point.id] = sub
        return sub

    async def _send(self, sub: Subscription) -> None:
        loop = asyncio.get_running_loop()
        request = SubscribeCOVRequest(
            subscriberProcessIdentifier=sub.process_id,
            monitoredObjectIdentifier=sub.oid,
            issueConfirmedNotifications=sub.confirmed,
            lifetime=sub.lifetime,
            destination=sub.peer.address,
        )
        try:
            await self._client.call(sub.peer, lambda: _confirmed(self._client, request))
        except RequestFailed as err:
            sub.renew_at = loop.time() + max(1.0, (sub.lifetime or _RETRY_S) / 4)
            if not err.timed_out:  # refused: polled at its normal interval from now on
                if self.refused.get(sub.point.id) != err.why:
                    _LOGGER.info("COV refused for %s, polling it: %s", sub.point.id, err.why)
                self.refused[sub.point.id] = err.why
                self.drop([sub.point.id])
            if not err.timed_out or loop.time() >= sub.expires_at:
                self._on_held(sub.point, False)
            raise
        self.refused.pop(sub.point.id, None)
        sub.expires_at = loop.time() + sub.lifetime if sub.lifetime else math.inf
        sub.renew_at = loop.time() + sub.lifetime / 2 if sub.lifetime else math.inf
        self._on_held(sub.point, True)


async def _confirmed(client: Client, request: SubscribeCOVRequest) -> None:
    """Send a confirmed request; an error answer is raised like bacpypes3's own services do."""
    response = await client.app.request(request)
    if isinstance(response, ErrorRejectAbortNack):
        raise response
