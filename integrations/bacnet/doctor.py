"""`bms-hub bacnet doctor`: check what makes BACnet/IP fail on a site and say what to fix.

Each check prints one line, `ok`, `warn` or `FAIL`, with a `fix:` line under the others: the bind
address and port, the interface and its prefix, a container without host networking, a broadcast
Who-Is/I-Am round trip (and unicast ones to listed devices, which tell a blocked broadcast from a
silent network), and the foreign-device registration with a BBMD.
"""

import asyncio
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import psutil

from hub.integration import DiscoveryRequest

from .app import HubApplication, hub_device
from .client import Client
from .config import BacnetConfig
from .discovery import who_is
from .network import BindError, Endpoint, check_bind, open_application, registration_status

_CONTAINER_MARKERS = ("/.dockerenv", "/run/.containerenv")


class Verdict(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    """One check's result and, unless it passed, what to do about it."""

    verdict: Verdict
    what: str
    fix: str = ""

    def lines(self) -> list[str]:
        out = [f"{self.verdict:<4}  {self.what}"]
        return [*out, f"      fix: {self.fix}"] if self.fix else out


def interface_of(ip: ipaddress.IPv4Address) -> tuple[str, ipaddress.IPv4Interface] | None:
    """The interface that holds `ip` on this machine, with its real prefix."""
    for name, addresses in psutil.net_if_addrs().items():
        for addr in addresses:
            if addr.family.name == "AF_INET" and addr.address == str(ip) and addr.netmask:
                return name, ipaddress.IPv4Interface(f"{addr.address}/{addr.netmask}")
    return None


def in_container() -> bool:
    """Docker and Podman leave a marker file in the root of a container."""
    return any(os.path.exists(marker) for marker in _CONTAINER_MARKERS)


def check_network(config: BacnetConfig) -> list[Finding]:
    """The checks that need no BACnet traffic: address, prefix, port, container."""
    findings = []
    found = interface_of(config.address.ip)
    if found is None:
        findings.append(
            Finding(
                Verdict.FAIL,
                f"{config.address.ip} is not an address of this machine",
                "set `address:` to one of this machine's addresses (`ip -4 addr`) with its prefix"
                + ("; in a container, run with host networking" if in_container() else ""),
            )
        )
    else:
        name, real = found
        if real.network != config.address.network:
            findings.append(
                Finding(
                    Verdict.WARN,
                    f"{config.address} is configured but {name} has {real}: "
                    "broadcasts go to the wrong address",
                    f"set `address: {real}`",
                )
            )
        else:
            broadcast = config.address.network.broadcast_address
            findings.append(
                Finding(Verdict.OK, f"{config.address} is on {name}; broadcasts go to {broadcast}")
            )
    if found is not None:
        try:
            check_bind(Endpoint(config.address, config.port))
            findings.append(Finding(Verdict.OK, f"UDP port {config.port} on {config.address} can be bound"))
        except BindError as err:
            what, _, fix = str(err).partition(": ")
            findings.append(Finding(Verdict.FAIL, what, fix))
    if in_container():
        only_private = all(name == "lo" or name.startswith("eth") for name in psutil.net_if_addrs())
        findings.append(
            Finding(
                Verdict.WARN if only_private else Verdict.OK,
                "running in a container"
                + (" that seems to have its own network (bridge), not the host's" if only_private else ""),
                "run it with host networking (`docker run --network host`, compose `network_mode: host`): "
                "BACnet discovery is broadcast and does not cross a bridge"
                if only_private
                else "",
            )
        )
    return findings


async def check_traffic(config: BacnetConfig, devices: Sequence[str], window: float) -> list[Finding]:
    """Who-Is round trips (broadcast and to `devices`) and the BBMD registration."""
    foreign = config.foreign_device
    app = await open_application(
        Endpoint(config.address, config.port),
        hub_device(config.device_instance),
        bbmd=foreign.bbmd if foreign else None,
        ttl=foreign.ttl if foreign else 300,
        app_class=HubApplication,
    )
    findings = []
    try:
        client = Client(app, config.timeout)
        if foreign is not None:
            findings.append(await _registration(app, foreign.bbmd, window))
        found = await who_is(client, DiscoveryRequest(), window)
        if found:
            some = ", ".join(f"{f.instance}@{f.address}" for f in found[:5])
            findings.append(Finding(Verdict.OK, f"broadcast Who-Is: {len(found)} devices answered ({some})"))
        else:
            findings.append(
                Finding(
                    Verdict.WARN,
                    f"broadcast Who-Is: no device answered within {window:g} s",
                    "check that the devices are on this subnet and UDP port "
                    f"{config.port} is open; for devices on other subnets register with their BBMD "
                    "(`foreign_device: {bbmd: ADDRESS}`)",
                )
            )
        for address in devices:
            answered = await who_is(client, DiscoveryRequest(addresses=(address,)), window)
            if answered:
                findings.append(
                    Finding(Verdict.OK, f"unicast Who-Is to {address}: device {answered[0].instance}")
                )
                if not found:
                    findings[-1] = Finding(
                        Verdict.WARN,
                        f"{address} answers a unicast Who-Is but not the broadcast one",
                        "broadcasts are blocked between here and the device "
                        "(router, VLAN, container bridge): "
                        "use its address in `devices:` or a BBMD",
                    )
            else:
                findings.append(
                    Finding(
                        Verdict.FAIL,
                        f"unicast Who-Is to {address}: no answer",
                        "check the address, the port and that the device is on",
                    )
                )
    finally:
        app.close()
    return findings


async def _registration(app: HubApplication, bbmd: str, window: float) -> Finding:
    """Wait up to `window` for the BBMD to accept the registration."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + window
    status = registration_status(app)
    while status != "registered" and loop.time() < ends:
        await asyncio.sleep(0.05)  # bacpypes3 offers no event for it
        status = registration_status(app)
    if status == "registered":
        return Finding(Verdict.OK, f"registered as a foreign device with the BBMD {bbmd}")
    return Finding(
        Verdict.FAIL,
        f"foreign-device registration with {bbmd}: {status}",
        "check the BBMD address and that it accepts foreign devices (its FDT is enabled)",
    )


def run(config: BacnetConfig, devices: Sequence[str], window: float) -> int:
    """Print every finding; 1 when something failed."""
    findings = check_network(config)
    for finding in findings:
        print("\n".join(finding.lines()), flush=True)
    if not any(f.verdict == Verdict.FAIL for f in findings):
        traffic = asyncio.run(check_traffic(config, devices, window))
        for finding in traffic:
            print("\n".join(finding.lines()), flush=True)
        findings.extend(traffic)
    failed = sum(1 for f in findings if f.verdict == Verdict.FAIL)
    print(f"problems found: {failed}" if failed else "no problems found", flush=True)
    return 1 if failed else 0
