"""A pair of network namespaces joined by a veth pair on one /24, so that BACnet broadcasts really travel.

The hub side gets `.1`, devices get `.11` upwards in the other namespace. Names carry the pid and a
counter, so parallel sessions never collide, and everything is deleted on exit, even after a failure
(deleting a namespace deletes its end of the veth pair, and with it the other end). `routed_lab` puts
the hub on a subnet of its own behind a router namespace instead, which (like every IP router) does
not forward broadcasts: only a BBMD gets the hub's Who-Is onto the devices' subnet.
"""

import contextlib
import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

_COUNTER = itertools.count()


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is missing"
    if os.geteuid() != 0:
        return "creating network namespaces needs root (CI runs the tests as root)"
    return None


@dataclass(frozen=True)
class Lab:
    """The two namespaces and the subnet between them."""

    hub_ns: str
    device_ns: str
    subnet: str  # e.g. 10.77.0  (a /24)
    hub_subnet: str = ""  # the hub's own /24 when routed, else the devices' subnet

    @property
    def hub_address(self) -> str:
        return f"{self.hub_subnet or self.subnet}.1/24"

    def device_ip(self, index: int) -> str:
        return f"{self.subnet}.{11 + index}"

    def in_hub(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.hub_ns)

    def in_devices(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.device_ns)


def _ip(*args: str) -> None:
    subprocess.run(("ip", *args), check=True, capture_output=True, timeout=10)


def _veth(name: str, ns_a: str, ns_b: str) -> tuple[str, str]:
    """A veth pair `NAMEa` in ns_a and `NAMEb` in ns_b; both ends' names."""
    ends = (f"{name}a", f"{name}b")
    _ip("link", "add", ends[0], "netns", ns_a, "type", "veth", "peer", "name", ends[1], "netns", ns_b)
    return ends


def _up(ns: str, *devs: str) -> None:
    for dev in ("lo", *devs):
        _ip("-n", ns, "link", "set", dev, "up")


def _delete(*namespaces: str) -> None:
    for ns in namespaces:
        subprocess.run(("ip", "netns", "del", ns), capture_output=True, timeout=10)


@contextlib.contextmanager
def lab(devices: int, subnet: str = "10.77.0") -> Iterator[Lab]:
    """Create the namespaces with `devices` addresses on the device side; remove them afterwards."""
    tag = f"{os.getpid()}x{next(_COUNTER)}"
    made = Lab(f"bmshub-{tag}-h", f"bmshub-{tag}-d", subnet)
    try:
        _ip("netns", "add", made.hub_ns)
        _ip("netns", "add", made.device_ns)
        hub_end, device_end = _veth(f"bh{tag}"[:12], made.hub_ns, made.device_ns)
        _ip("-n", made.hub_ns, "addr", "add", made.hub_address, "dev", hub_end)
        for index in range(devices):
            _ip("-n", made.device_ns, "addr", "add", f"{made.device_ip(index)}/24", "dev", device_end)
        _up(made.hub_ns, hub_end)
        _up(made.device_ns, device_end)
        yield made
    finally:
        _delete(made.hub_ns, made.device_ns)


@contextlib.contextmanager
def routed_lab(devices: int, subnet: str = "10.77.0", hub_subnet: str = "10.78.0") -> Iterator[Lab]:
    """Hub and devices on two subnets joined by a router namespace (`.254` on both); removed afterwards."""
    tag = f"{os.getpid()}x{next(_COUNTER)}"
    made = Lab(f"bmshub-{tag}-h", f"bmshub-{tag}-d", subnet, hub_subnet)
    router = f"bmshub-{tag}-r"
    try:
        for ns in (made.hub_ns, made.device_ns, router):
            _ip("netns", "add", ns)
        hub_end, router_hub_end = _veth(f"bh{tag}"[:11], made.hub_ns, router)
        device_end, router_device_end = _veth(f"bd{tag}"[:11], made.device_ns, router)
        _ip("-n", made.hub_ns, "addr", "add", made.hub_address, "dev", hub_end)
        _ip("-n", router, "addr", "add", f"{hub_subnet}.254/24", "dev", router_hub_end)
        _ip("-n", router, "addr", "add", f"{subnet}.254/24", "dev", router_device_end)
        for index in range(devices):
            _ip("-n", made.device_ns, "addr", "add", f"{made.device_ip(index)}/24", "dev", device_end)
        _up(made.hub_ns, hub_end)
        _up(made.device_ns, device_end)
        _up(router, router_hub_end, router_device_end)
        subprocess.run(
            ("ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"),
            check=True, capture_output=True, timeout=10,
        )  # fmt: skip
        _ip("-n", made.hub_ns, "route", "add", "default", "via", f"{hub_subnet}.254")
        _ip("-n", made.device_ns, "route", "add", "default", "via", f"{subnet}.254")
        yield made
    finally:
        _delete(made.hub_ns, made.device_ns, router)
