"""A pair of network namespaces joined by a veth pair on one /24, so that BACnet broadcasts really travel.

The hub side gets `.1`, devices get `.11` upwards in the other namespace. Names carry the pid and a
counter, so parallel sessions never collide, and everything is deleted on exit, even after a failure
(deleting a namespace deletes its end of the veth pair, and with it the other end).
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

    @property
    def hub_address(self) -> str:
        return f"{self.subnet}.1/24"

    def device_ip(self, index: int) -> str:
        return f"{self.subnet}.{11 + index}"

    def in_hub(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.hub_ns)

    def in_devices(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.device_ns)


def _ip(*args: str) -> None:
    subprocess.run(("ip", *args), check=True, capture_output=True, timeout=10)


@contextlib.contextmanager
def lab(devices: int, subnet: str = "10.77.0") -> Iterator[Lab]:
    """Create the namespaces with `devices` addresses on the device side; remove them afterwards."""
    tag = f"{os.getpid()}x{next(_COUNTER)}"
    made = Lab(f"bmshub-{tag}-h", f"bmshub-{tag}-d", subnet)
    veth = f"bh{tag}"[:12]
    try:
        _ip("netns", "add", made.hub_ns)
        _ip("netns", "add", made.device_ns)
        _ip(
            "link",
            "add",
            f"{veth}h",
            "netns",
            made.hub_ns,
            "type",
            "veth",
            "peer",
            "name",
            f"{veth}d",
            "netns",
            made.device_ns,
        )
        _ip("-n", made.hub_ns, "addr", "add", made.hub_address, "dev", f"{veth}h")
        for index in range(devices):
            _ip("-n", made.device_ns, "addr", "add", f"{made.device_ip(index)}/24", "dev", f"{veth}d")
        for ns, dev in ((made.hub_ns, f"{veth}h"), (made.device_ns, f"{veth}d")):
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "link", "set", dev, "up")
        yield made
    finally:
        for ns in (made.hub_ns, made.device_ns):
            subprocess.run(("ip", "netns", "del", ns), capture_output=True, timeout=10)
