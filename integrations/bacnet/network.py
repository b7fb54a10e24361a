"""Open a bacpypes3 application on a checked address: bacpypes3 itself hangs or shares a port silently.

bacpypes3 binds with SO_REUSEPORT and retries a failed bind forever, so a second application on the
same ip:port starts "fine" and steals half the replies, and an address not on the machine just
hangs. `check_bind` binds a plain socket first and turns both into a clear error. The address is
always explicit (`ip/prefix:port`): the prefix makes bacpypes3 also listen on the subnet's
broadcast address, without which broadcast I-Ams are never heard.
"""

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from bacpypes3.app import Application
from bacpypes3.basetypes import BDTEntry, HostNPort, IPMode
from bacpypes3.local.device import DeviceObject
from bacpypes3.local.networkport import NetworkPortObject
from bacpypes3.local.object import Object

from . import speedups

BIND_TIMEOUT_S = 5.0
VENDOR_ID = 999  # bacpypes3's own vendor id: an unregistered, test-and-lab value


class BindError(Exception):
    """The hub cannot bind its BACnet address; the message says what to fix."""


@dataclass(frozen=True)
class Endpoint:
    """Where a BACnet application binds."""

    interface: ipaddress.IPv4Interface
    port: int

    @property
    def address(self) -> str:
        """`ip/prefix:port`, as bacpypes3 takes it."""
        return f"{self.interface.ip}/{self.interface.network.prefixlen}:{self.port}"

    @property
    def broadcast(self) -> str:
        """The subnet broadcast address a Who-Is goes to (never 255.255.255.255)."""
        return f"{self.interface.network.broadcast_address}:{self.port}"


def check_bind(endpoint: Endpoint) -> None:
    """Bind plain UDP sockets where bacpypes3 will (address and broadcast); raise BindError saying why not."""
    ip, port = str(endpoint.interface.ip), endpoint.port
    _probe(ip, port, shared=False)
    broadcast = str(endpoint.interface.network.broadcast_address)
    if broadcast != ip:
        try:
            _probe(broadcast, port, shared=True)  # every BACnet application on the subnet shares it
        except BindError:
            raise BindError(
                f"the prefix /{endpoint.interface.network.prefixlen} gives the broadcast address "
                f"{broadcast}, "
                f"which is not this machine's: use the prefix of the interface that has {ip} (`ip -4 addr`)"
            ) from None


def _probe(ip: str, port: int, shared: bool) -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        if shared:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        probe.bind((ip, port))
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise BindError(
                f"UDP port {port} on {ip} is already in use: stop the other BACnet application "
                f"(`ss -ulpn 'sport = :{port}'` shows it) or configure another port"
            ) from None
        if err.errno == errno.EADDRNOTAVAIL:
            raise BindError(
                f"{ip} is not an address of this machine (`ip -4 addr` lists them); in a container, "
                "run it with host networking so the hub sees the site's interface"
            ) from None
        if err.errno == errno.EACCES:
            raise BindError(f"not allowed to bind UDP port {port} on {ip}: {err.strerror}") from None
        raise BindError(f"cannot bind UDP {ip}:{port}: {err.strerror}") from None
    finally:
        probe.close()


def network_port(
    endpoint: Endpoint, bbmd: str | None = None, ttl: int = 300, serve_bbmd: bool = False
) -> NetworkPortObject:
    """The network-port object that binds `endpoint`: registered with `bbmd` if given, or a BBMD itself."""
    port = NetworkPortObject(
        endpoint.address,
        objectIdentifier=("network-port", 1),
        objectName="NetworkPort-1",
        networkNumber=0,
        networkNumberQuality="unknown",
    )
    if bbmd is not None:
        port.bacnetIPMode = IPMode.foreign
        port.fdBBMDAddress = HostNPort(bbmd)
        port.fdSubscriptionLifetime = ttl
    elif serve_bbmd:
        port.bacnetIPMode = IPMode.bbmd
        port.bbmdAcceptFDRegistrations = True
        port.bbmdForeignDeviceTable = []
        # bacpypes3 re-broadcasts a Distribute-Broadcast-To-Network (a foreign device's broadcast) on the
        # local subnet only for a BDT entry that is the BBMD itself: without it only the BBMD's own
        # device hears it. The all-ones mask (the entry's default) asks peers to unicast to us.
        port.bbmdBroadcastDistributionTable = [BDTEntry(f"{endpoint.interface.ip}:{endpoint.port}")]
    return port


async def open_application(
    endpoint: Endpoint,
    device: DeviceObject,
    objects: Sequence[Object] = (),
    *,
    bbmd: str | None = None,
    ttl: int = 300,
    serve_bbmd: bool = False,
    app_class: type[Application] = Application,
) -> Application:
    """Check the bind, build the application and wait until its sockets are bound."""
    check_bind(endpoint)
    speedups.install()  # before the first packet is decoded
    app = app_class.from_object_list([device, network_port(endpoint, bbmd, ttl, serve_bbmd), *objects])
    try:
        async with asyncio.timeout(BIND_TIMEOUT_S):
            for link in app.link_layers.values():
                await asyncio.gather(*link.server._transport_tasks)
    except TimeoutError:
        app.close()
        raise BindError(f"bacpypes3 could not bind {endpoint.address} within {BIND_TIMEOUT_S:g} s") from None
    return app


def registration_status(app: Application) -> str | None:
    """Foreign-device registration: registered, registering, unregistered or refused; None if not foreign."""
    for link in app.link_layers.values():
        status = getattr(link, "bbmdRegistrationStatus", None)
        if status is None:
            continue
        return {-2: "unregistered", -1: "registering", 0: "registered"}.get(
            status, f"refused (code {status})"
        )
    return None
