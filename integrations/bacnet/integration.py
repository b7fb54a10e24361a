"""BACnet/IP as a hub integration: binds a checked address, polls, writes at a priority, subscribes to COV.

Devices come from the config (`devices:`), from discovery with `poll_discovered`, and one by one
from the devices users add to monitoring from a discovery result (`ctx.monitored`, `monitor()`,
`unmonitor()`: the config's devices stay the config's). Whatever a scan found is kept in the
device cache: at start, known devices are registered from it at once; the others are looked for
(Who-Is by instance when no address is configured) and scanned by a supervised task that retries
until they answer.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import replace

from bacpypes3.apdu import IAmRequest
from bacpypes3.pdu import Address

from hub.health import ComponentHealth, HealthStatus
from hub.integration import (
    DeviceError,
    DiscoveredDevice,
    DiscoveryEvent,
    DiscoveryRequest,
    IntegrationContext,
    PrioritySlots,
    WriteError,
)
from hub.points import Point, PointKind, Quality, Sample, Value

from .app import HubApplication, hub_device
from .cache import DeviceCache
from .client import Client, Failure, Peer, RequestFailed
from .codec import object_id, to_bacnet, to_value
from .config import BacnetConfig, CovMode, DeviceConfig
from .cov import CovSubscriptions
from .discovery import Found, discover, found_from
from .network import Endpoint, open_application, registration_status
from .scan import ARRAY_WEIGHT, ScannedDevice, from_discovered, scan_device

RETRY_S = (1.0, 60.0)  # first and longest wait between attempts to find a configured device


class BacnetIntegration:
    """The bacnet integration: one application, a Peer per device, the COV subscriptions."""

    batch_size = 500

    def __init__(self, ctx: IntegrationContext, config: BacnetConfig, clock: Callable[[], float] = time.time):
        self._ctx = ctx
        self.config = config
        self._clock = clock
        self.endpoint = Endpoint(config.address, config.port)
        self.cache = DeviceCache(ctx.data_dir)
        self.peers: dict[str, Peer] = {}  # by hub device id (the instance as text)
        self.settings: dict[str, DeviceConfig] = {}
        self.app: HubApplication | None = None
        self.client: Client | None = None
        self.cov: CovSubscriptions | None = None
        self.waiting: dict[int, str] = {}  # configured devices not found yet -> why
        self.added: dict[str, DiscoveredDevice] = {}  # devices users added from discovery, by id

    async def start(self) -> None:
        """Bind (BindError says why not), register cached devices, look for the others."""
        foreign = self.config.foreign_device
        self.app = await open_application(
            self.endpoint,
            hub_device(self.config.device_instance),
            bbmd=foreign.bbmd if foreign else None,
            ttl=foreign.ttl if foreign else 300,
            app_class=HubApplication,
        )
        self.client = Client(self.app, self.config.timeout)
        self.cov = CovSubscriptions(self.client, self._ctx.report, self._cov_held, self._clock)
        self.app.on_notification = self.cov.notified
        self.app.on_i_am = self._announced
        self._ctx.on_cleanup(self.app.close)
        self._ctx.spawn("cov", self.cov.run)
        self.cache.load()
        configured = {d.instance: d for d in self.config.devices}
        added = self._register_added(configured)
        if self.config.poll_discovered:
            for instance in self.cache.devices.keys() - configured.keys() - added:
                configured[instance] = DeviceConfig(instance)
        for instance, setting in configured.items():
            cached = self.cache.devices.get(instance)
            if cached is not None and (not setting.address or _same_host(cached.address, setting.address)):
                self._register(cached, setting)
            else:
                self.waiting[instance] = "not found yet"
                self._ctx.spawn(f"find.{instance}", lambda s=setting: self._find(s))
        self._ctx.logger.info(
            "BACnet on %s: %d devices, %d being looked for",
            self.endpoint.address,
            len(self.peers),
            len(self.waiting),
        )

    async def stop(self) -> None:
        """The context closes the application and stops the tasks."""

    def discover(self, request: DiscoveryRequest) -> AsyncIterator[DiscoveryEvent]:
        """Who-Is (broadcast, by range or to listed addresses), then read each device that answered."""
        window = min(self.config.discovery_window, request.timeout)
        return discover(self._client(), request, window, self._peer_for, self._discovered)

    async def read(self, points: Sequence[Point]) -> Mapping[str, Sample]:
        """The points' presentValues (one device): RPM batches sized for the device, errors per point."""
        if not points:
            return {}
        peer = self._peer(points[0].device_id)
        oids = [object_id(p.address) for p in points]
        try:
            values = await self._client().read_many(peer, oids, ("presentValue",))
        except RequestFailed as err:
            raise DeviceError(self._no_answer(err)) from None
        now = self._clock()
        out = {}
        for point, oid in zip(points, oids, strict=True):
            value = values.get((oid, "presentValue"))
            if isinstance(value, Failure):
                out[point.id] = Sample(None, now, Quality.BAD, value.reason)
            else:
                out[point.id] = Sample(to_value(value), now)
        return out

    async def write(self, point: Point, value: Value, priority: int) -> None:
        """WriteProperty presentValue at `priority` (None writes Null: relinquish)."""
        peer = self._peer(point.device_id)
        try:
            await self._client().write(
                peer, object_id(point.address), "presentValue", to_bacnet(point.kind, value), priority
            )
        except RequestFailed as err:
            if err.timed_out:
                raise DeviceError(self._no_answer(err)) from None
            raise WriteError(err.why) from None

    async def subscribe(self, points: Sequence[Point]) -> None:
        """Subscribe to COV of the points whose config asks for it (the others are only polled)."""
        if not points or self.cov is None:
            return
        device_id = points[0].device_id
        setting = self._setting(device_id)
        modes = [(point, self._cov_mode(setting, point)) for point in points]
        wanted = [(point, mode == CovMode.CONFIRMED) for point, mode in modes if mode != CovMode.OFF]
        lifetime = setting.cov_lifetime if setting.cov_lifetime is not None else self.config.cov_lifetime
        try:
            await self.cov.subscribe(self._peer(device_id), wanted, lifetime)
        except RequestFailed as err:
            raise DeviceError(self._no_answer(err)) from None

    async def priority_array(self, point_id: str) -> PrioritySlots | None:
        """The object's priorityArray and relinquishDefault, read now (None: not commandable)."""
        point = self._ctx.points.point(point_id)
        if not point.writable:
            return None
        oid = object_id(point.address)
        props = ("priorityArray", "relinquishDefault")
        try:
            values = await self._client().read_many(self._peer(point.device_id), [oid], props, ARRAY_WEIGHT)
        except RequestFailed as err:
            raise DeviceError(self._no_answer(err)) from None
        slots, default = (values.get((oid, prop)) for prop in props)
        if slots is None or isinstance(slots, Failure):
            return None
        known = default is not None and not isinstance(default, Failure)
        return PrioritySlots(
            tuple(_point_value(point, slot) for slot in slots),
            _point_value(point, default) if known else None,
        )

    def health(self) -> ComponentHealth:
        """DOWN when not bound, DEGRADED while configured devices are missing or BBMD registration failed."""
        if self.app is None:
            return ComponentHealth(
                HealthStatus.DOWN, {"address": self.endpoint.address, "error": "not bound"}
            )
        registration = registration_status(self.app)
        detail: dict[str, object] = {
            "address": self.endpoint.address,
            "devices": len(self.peers),
            "waiting": {str(k): v for k, v in sorted(self.waiting.items())},
            "cov_subscriptions": self.cov.active if self.cov else 0,
            "cov_refused": len(self.cov.refused) if self.cov else 0,
            "cov_notifications": self.cov.notifications if self.cov else 0,
        }
        if registration is not None:
            detail["foreign_device"] = registration
        bad_registration = registration not in (None, "registered", "registering")
        status = HealthStatus.DEGRADED if self.waiting or bad_registration else HealthStatus.OK
        return ComponentHealth(status, detail)

    # -- devices users add from discovery (hub.monitoring) ----------------------------------------

    def monitor_problem(self, found: DiscoveredDevice) -> str | None:
        """A device in the config stays the config's."""
        if not found.device.id.isdigit():
            return f"{found.device.id!r} is not a BACnet device instance"
        if int(found.device.id) in {d.instance for d in self.config.devices}:
            return f"device {found.device.id} is in integrations.bacnet.devices: change it in the config"
        return None

    async def monitor(self, found: DiscoveredDevice) -> None:
        """Poll the device from what discovery found (its cached scan, if any, for its segmentation)."""
        self._add(found)

    async def unmonitor(self, device_id: str) -> None:
        """Forget the device's Peer and stop renewing its subscriptions."""
        found = self.added.pop(device_id, None)
        if found is not None and self.cov is not None:
            self.cov.drop([point.id for point in found.points])
        self.peers.pop(device_id, None)
        self.settings.pop(device_id, None)

    def _register_added(self, configured: Mapping[int, DeviceConfig]) -> set[int]:
        """Register the devices users added (a device since put in the config is left to the config)."""
        instances = set()
        for found in self._ctx.monitored:
            instance = int(found.device.id)
            instances.add(instance)
            if instance in configured:
                self._ctx.logger.warning(
                    "device %d, added from discovery, is in the config now: the config applies", instance
                )
                continue
            self._add(found)
        return instances

    def _add(self, found: DiscoveredDevice) -> None:
        """Register an added device with only its chosen points."""
        instance = int(found.device.id)
        self._register(from_discovered(found, self.cache.devices.get(instance)), DeviceConfig(instance))
        self.added[found.device.id] = found

    # -- devices ------------------------------------------------------------------------------

    def _register(self, scan: ScannedDevice, setting: DeviceConfig) -> None:
        """Make the scanned device pollable: its Peer, its hub Device and Points."""
        device_id = str(scan.instance)
        peer = self.peers.get(device_id)
        if peer is None:
            peer = Peer(
                scan.instance, Address(scan.address), limit=asyncio.Semaphore(self.config.max_concurrent)
            )
            self.peers[device_id] = peer
        peer.address, peer.max_apdu, peer.segmented = Address(scan.address), scan.max_apdu, scan.segmented
        self.settings[device_id] = setting
        self.waiting.pop(scan.instance, None)
        interval = setting.poll_interval or self.config.poll_interval
        refused = self.cov.refused if self.cov else {}
        points = [
            self._scheduled(point, self._cov_mode(setting, point) != CovMode.OFF and point.id not in refused)
            for point in scan.points()
        ]
        self._ctx.add_device(scan.device(interval, setting.name), points)

    # -- COV and polling, per point -------------------------------------------------------------

    def _setting(self, device_id: str) -> DeviceConfig:
        return self.settings.get(device_id) or DeviceConfig(int(device_id))

    def _cov_mode(self, setting: DeviceConfig, point: Point) -> CovMode:
        return setting.cov_for(point.address, self.config.cov)

    def _scheduled(self, point: Point, pushes: bool) -> Point:
        """The point polled at the slow safety interval while it pushes its changes, else at the device's."""
        setting = self._setting(point.device_id)
        slow = setting.cov_poll_interval or self.config.cov_poll_interval
        return replace(point, poll_interval=slow if pushes else None)

    def _cov_held(self, point: Point, held: bool) -> None:
        """The device took, refused or lost a point's subscription: re-register it if its interval moved."""
        try:
            current = self._ctx.points.point(point.id)
        except KeyError:
            return
        scheduled = self._scheduled(current, held)
        if scheduled.poll_interval != current.poll_interval:
            self._ctx.points.add_point(scheduled)  # PointAdded: the poller regroups the device's points

    async def _find(self, setting: DeviceConfig) -> None:
        """Look for a configured device until it answers, then scan, cache and register it."""
        client = self._client()
        delay = RETRY_S[0]
        while True:
            try:
                found = await self._locate(setting)
                scan = await scan_device(client, self._peer_for(found))
            except RequestFailed as err:
                self.waiting[setting.instance] = err.why
                await asyncio.sleep(delay)
                delay = min(RETRY_S[1], delay * 2)
                continue
            self.cache.put(scan)
            self._register(scan, setting)
            return

    async def _locate(self, setting: DeviceConfig) -> Found:
        """The device's I-Am: a Who-Is for its instance, unicast when its address is configured."""
        address = Address(setting.address) if setting.address else None
        i_ams = await self._client().app.who_is(
            setting.instance,
            setting.instance,
            address,
            timeout=self.config.timeout,  # type: ignore[arg-type]
        )
        if not i_ams:
            where = setting.address or "by broadcast"
            raise RequestFailed(
                f"no I-Am from device {setting.instance} ({where}) within {self.config.timeout:g} s"
            )
        return found_from(i_ams[0])

    def _peer_for(self, found: Found) -> Peer:
        """The Peer for a device that answered a Who-Is (the known one, updated, if any)."""
        peer = self.peers.get(str(found.instance))
        if peer is None:
            peer = Peer(found.instance, found.address, limit=asyncio.Semaphore(self.config.max_concurrent))
        peer.address, peer.max_apdu, peer.segmented = found.address, found.max_apdu, found.segmented
        return peer

    def _discovered(self, scan: ScannedDevice) -> DiscoveredDevice:
        """Cache a discovered device; register it too when `poll_discovered` is on (or it is configured).

        A device a user added keeps the points they chose.
        """
        self.cache.put(scan)
        configured = {d.instance: d for d in self.config.devices}
        polled = self.config.poll_discovered and str(scan.instance) not in self.added
        if polled or scan.instance in configured:
            self._register(scan, configured.get(scan.instance, DeviceConfig(scan.instance)))
        return DiscoveredDevice(scan.device(self.config.poll_interval), scan.points())

    def _announced(self, i_am: IAmRequest) -> None:
        """A known device said I-Am (it started, or answers a Who-Is): follow its address, renew its COV."""
        peer = self.peers.get(str(i_am.iAmDeviceIdentifier[1]))
        if peer is None:
            return
        if i_am.pduSource != peer.address:
            self._ctx.logger.info(
                "device %s moved from %s to %s", peer.instance, peer.address, i_am.pduSource
            )
            peer.address = i_am.pduSource
        if self.cov is not None:
            self.cov.renew_now(peer)

    def _peer(self, device_id: str) -> Peer:
        peer = self.peers.get(device_id)
        if peer is None:
            raise DeviceError(f"BACnet device {device_id} is not known (not found yet)")
        return peer

    def _client(self) -> Client:
        if self.client is None:
            raise DeviceError("the BACnet integration is not started")
        return self.client

    def _no_answer(self, err: RequestFailed) -> str:
        return f"no answer within {self.config.timeout:g} s" if err.timed_out else err.why


def _point_value(point: Point, value: object) -> Value:
    """A slot or default as the point's value (binary ones hold the enumeration: 1 active, 0 inactive)."""
    converted = to_value(value)
    return bool(converted) if point.kind == PointKind.BINARY and converted is not None else converted


def _same_host(cached: str, configured: str) -> bool:
    """A configured address without a port means the default one."""
    return Address(cached) == Address(configured)
