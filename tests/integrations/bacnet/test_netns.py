"""Broadcast discovery and the doctor on a real subnet: two network namespaces and a veth pair (root)."""

import asyncio
import json
import sys

import pytest

from tests.integrations.bacnet import netns
from tests.integrations.bacnet.conftest import WAIT_S

pytestmark = pytest.mark.skipif(netns.unavailable() is not None, reason=netns.unavailable() or "")


@pytest.fixture
def lab():
    with netns.lab(devices=3) as made:
        yield made


async def run_hub_command(lab: netns.Lab, *args: str) -> tuple[int, str]:
    """`bms-hub bacnet ARGS` inside the hub's namespace: exit code and stdout."""
    process = await asyncio.create_subprocess_exec(
        *lab.in_hub(), sys.executable, "-m", "hub", "bacnet", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(WAIT_S * 3):
        out, err = await process.communicate()
    return process.returncode, out.decode() + err.decode()


async def start_three(lab: netns.Lab, start_device):
    small = ("--analog-inputs", "2", "--analog-values", "1", "--binary-values", "0")
    return await start_device(
        1400, *small, "--bbmd", port=47808, prefix=lab.in_devices(), ip=lab.device_ip(0), count=3
    )


async def test_broadcast_discovery_and_the_doctor_on_a_subnet(lab, start_device):
    await start_three(lab, start_device)
    code, out = await run_hub_command(lab, "discover", "--address", lab.hub_address, "--window", "1")
    assert code == 0, out
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    devices = [e["device"] for e in events if "device" in e]
    assert [(d["instance"], d["address"]) for d in devices] == [
        (1400 + n, lab.device_ip(n))
        for n in range(3)  # the default port is left out
    ]
    assert [len(d["objects"]) for d in devices] == [3, 3, 3]
    progress = [e["progress"] for e in events if "progress" in e]
    assert progress[0]["message"] == "Who-Is (broadcast), listening 1 s"
    assert progress[1]["message"] == "3 devices answered"
    assert progress[-1] == {"percent": 100.0, "current": "", "message": "3 devices read"}

    bbmd = device = f"{lab.device_ip(0)}:47808"  # the first simulated device is also a BBMD
    code, out = await run_hub_command(
        lab, "doctor", "--address", lab.hub_address, "--port", "47809", "--window", "1",
        "--device", device, "--bbmd", bbmd,
    )  # fmt: skip
    assert code == 0, out
    assert f"ok    {lab.hub_address} is on" in out
    assert "broadcasts go to 10.77.0.255" in out
    assert f"ok    registered as a foreign device with the BBMD {bbmd}" in out
    assert "ok    broadcast Who-Is: " in out
    assert f"ok    unicast Who-Is to {device}: device 1400" in out
    assert out.rstrip().endswith("no problems found")


async def test_doctor__what_is_wrong_and_what_to_fix(lab):
    code, out = await run_hub_command(lab, "doctor", "--address", lab.hub_address, "--window", "1")
    assert code == 0, out
    assert "warn  broadcast Who-Is: no device answered within 1 s" in out

    code, out = await run_hub_command(lab, "doctor", "--address", f"{lab.subnet}.1/16", "--window", "1")
    assert code == 1, out
    assert f"warn  {lab.subnet}.1/16 is configured but" in out
    assert f"fix: set `address: {lab.hub_address}`" in out
    assert (
        "FAIL  the prefix /16 gives the broadcast address 10.77.255.255, which is not this machine's" in out
    )


@pytest.fixture
def routed():
    with netns.routed_lab(devices=3) as made:
        yield made


async def test_a_foreign_device_discovers_a_routed_subnet_through_the_bbmd(routed, start_device):
    """Three devices, each its own process, behind a router that drops broadcasts; the first is a BBMD."""
    small = ("--analog-inputs", "2", "--analog-values", "1", "--binary-values", "0")
    for n in range(3):
        bbmd = ("--bbmd",) if n == 0 else ()
        await start_device(
            1500 + n, *small, *bbmd, port=47808, prefix=routed.in_devices(), ip=routed.device_ip(n)
        )
    discover = ("discover", "--address", routed.hub_address, "--window", "1")

    code, out = await run_hub_command(routed, *discover)
    assert code == 0, out
    # the router keeps the hub's own broadcast off the devices' subnet
    assert '"message": "0 devices answered"' in out

    code, out = await run_hub_command(routed, *discover, "--bbmd", f"{routed.device_ip(0)}:47808")
    assert code == 0, out
    devices = [json.loads(line)["device"] for line in out.splitlines() if line.startswith('{"device"')]
    assert [(d["instance"], d["address"], len(d["objects"])) for d in devices] == [
        (1500 + n, routed.device_ip(n), 3) for n in range(3)
    ]
