"""BACnet benchmark: RPM read cycles of 1,000 objects, discovery of 20 devices, COV latency.

Run from the repository root (the discovery part needs root and `ip`; it is skipped otherwise):

    .venv/bin/python bench/bacnet.py
    .venv/bin/python bench/bacnet.py --cycles 20 --cov-writes 500

Method
- Devices are `python -m integrations.bacnet` processes (bacpypes3 on both ends), started and
  waited for by their READY line; the integration runs in this process on real hub parts.
- Read cycle: one segmenting device with 1,000 analog inputs on loopback; a cycle is what the
  hub's poller does for it: `read()` of every point in batches of `batch_size`, in turn. Median
  and worst over `--cycles` cycles; values/s is 1,000 / median. Target: < 1 s per cycle.
- Discovery: 20 devices (10 objects each) on 20 addresses of a /24 between two network namespaces;
  the hub side runs in the hub namespace (this script again, with `--inside`), does a broadcast
  Who-Is with a `--window` s window and reads every device. Reported: total, and total minus window.
- COV latency: a device with analog values, subscribed unconfirmed; each sample is a WriteProperty
  of a new value to one object, timed from sending the write to the notification's value reaching
  `ctx.report`. This is an upper bound on notification-to-sample latency (it includes the write's
  trip to the device). p50/p99 over `--cov-writes` writes. Target: p99 < 20 ms.
Nothing is asserted; the summary says "meets" or "below" for each target.
"""

import argparse
import asyncio
import json
import logging
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.bus import Bus  # noqa: E402
from hub.integration import DiscoveredDevice, DiscoveryRequest, detached_context  # noqa: E402
from hub.points import DeviceAdded, PointRegistry, Sample  # noqa: E402
from hub.supervisor import Supervisor  # noqa: E402
from integrations.bacnet import CONFIG_SCHEMA, async_setup  # noqa: E402
from integrations.bacnet.codec import object_id, to_bacnet  # noqa: E402
from integrations.bacnet.integration import BacnetIntegration  # noqa: E402

READ_TARGET_S = 1.0
COV_TARGET_MS = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def simulated(*args: str, prefix: tuple[str, ...] = (), count: int = 1) -> AsyncIterator[None]:
    """A simulator process, ready (every READY line read) until the block ends."""
    process = await asyncio.create_subprocess_exec(
        *prefix, sys.executable, "-m", "integrations.bacnet", *args, "--count", str(count),
        stdout=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    try:
        for _ in range(count):
            line = await asyncio.wait_for(process.stdout.readline(), 120)  # type: ignore[union-attr]
            if not line.startswith(b"READY"):
                raise SystemExit(f"simulator did not start: {line!r}")
        yield
    finally:
        process.kill()
        await process.wait()


@asynccontextmanager
async def integration(raw: dict, report=None) -> AsyncIterator[BacnetIntegration]:
    """The integration on a real registry and supervisor, started, stopped at the end."""
    registry = PointRegistry(Bus())
    supervisor = Supervisor()
    with tempfile.TemporaryDirectory() as data:
        ctx = detached_context("bacnet", registry, supervisor, Path(data), report)
        built = await async_setup(ctx, CONFIG_SCHEMA(raw))
        await built.start()
        try:
            yield built
        finally:
            await supervisor.stop()
            for cleanup in reversed(ctx._cleanups):
                cleanup()


async def wait_registered(built: BacnetIntegration, device_id: str) -> None:
    """Until the integration found and scanned the device."""
    added = asyncio.Event()
    unsubscribe = built._ctx.bus.subscribe(DeviceAdded, lambda event: added.set())
    try:
        while device_id not in built.peers:
            await added.wait()
            added.clear()
    finally:
        unsubscribe()


async def bench_reads(cycles: int) -> dict:
    port = free_port()
    args = ("--address", "127.0.0.1/32", "--port", str(port), "--instance", "2001", "--analog-inputs", "1000")
    async with simulated(*args, "--analog-values", "0", "--binary-values", "0"):
        raw = {
            "address": "127.0.0.1/32",
            "port": free_port(),
            "devices": [{"instance": 2001, "address": f"127.0.0.1:{port}"}],
        }
        async with integration(raw) as built:
            await asyncio.wait_for(wait_registered(built, "2001"), 120)
            points = list(built._ctx.points.points("2001"))
            size = built.batch_size
            times = []
            for _ in range(cycles + 1):  # the first cycle warms up
                started = time.perf_counter()
                for start in range(0, len(points), size):
                    await built.read(points[start : start + size])
                times.append(time.perf_counter() - started)
            times = times[1:]
    median = statistics.median(times)
    return {
        "points": len(points),
        "cycle_median_s": median,
        "cycle_max_s": max(times),
        "values_per_s": len(points) / median,
    }


async def bench_cov(writes: int) -> dict:
    port = free_port()
    args = ("--address", "127.0.0.1/32", "--port", str(port), "--instance", "2002", "--analog-inputs", "0")
    awaited: dict[tuple[str, float], asyncio.Future[float]] = {}  # (point id, value) -> its arrival time

    def report(point_id: str, sample: Sample) -> None:
        future = awaited.pop((point_id, sample.value), None)  # type: ignore[arg-type]
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    async with simulated(*args, "--analog-values", "10", "--binary-values", "0"):
        raw = {
            "address": "127.0.0.1/32", "port": free_port(), "cov": "unconfirmed",
            "devices": [{"instance": 2002, "address": f"127.0.0.1:{port}"}],
        }  # fmt: skip
        async with integration(raw, report) as built:
            await asyncio.wait_for(wait_registered(built, "2002"), 60)
            points = sorted(built._ctx.points.points("2002"), key=lambda p: p.id)
            await built.subscribe(points)
            peer = built.peers["2002"]
            latencies = []
            for n in range(writes):
                point = points[n % len(points)]
                value = float(n % 97)  # never the value the object already has
                waiting = awaited[(point.id, value)] = asyncio.get_running_loop().create_future()
                sent = time.perf_counter()
                await built.client.write(
                    peer, object_id(point.address), "presentValue", to_bacnet(point.kind, value), 8
                )
                try:
                    got = await asyncio.wait_for(waiting, 2)
                except TimeoutError:
                    awaited.pop((point.id, value), None)
                    continue  # counted as missing: samples < writes
                latencies.append((got - sent) * 1000)
    latencies.sort()
    return {
        "samples": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))],
        "max_ms": latencies[-1],
    }


async def inside_discovery(address: str, window: float, devices: int) -> None:
    """Run in the hub namespace: one broadcast discovery, print its timing as JSON."""
    raw = {"address": address, "discovery_window": window, "max_concurrent": 4}
    async with integration(raw) as built:
        started = time.perf_counter()
        found = 0
        async for event in built.discover(DiscoveryRequest(timeout=window)):
            found += isinstance(event, DiscoveredDevice)
        total = time.perf_counter() - started
    print(
        json.dumps({"devices": found, "expected": devices, "total_s": total, "window_s": window}), flush=True
    )


async def bench_discovery(window: float, devices: int) -> dict | str:
    sys.path.insert(0, str(ROOT))
    from tests.integrations.bacnet import netns

    why = netns.unavailable()
    if why:
        return f"skipped: {why}"
    with netns.lab(devices) as lab:
        args = (
            "--address",
            f"{lab.device_ip(0)}/24",
            "--step",
            "ip",
            "--instance",
            "3000",
            "--analog-inputs",
            "6",
        )
        async with simulated(
            *args, "--analog-values", "2", "--binary-values", "2", prefix=lab.in_devices(), count=devices
        ):
            inside = await asyncio.create_subprocess_exec(
                *lab.in_hub(), sys.executable, __file__, "--inside", lab.hub_address,
                "--window", str(window), "--devices", str(devices),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
            )  # fmt: skip
            out, err = await asyncio.wait_for(inside.communicate(), 300)
    if inside.returncode != 0:
        return f"failed: {err.decode()[-500:]}"
    return json.loads(out.decode().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "meets" if ok else "below"


async def main(args: argparse.Namespace) -> None:
    if args.inside:
        await inside_discovery(args.inside, args.window, args.devices)
        return
    reads = await bench_reads(args.cycles)
    print(
        f"read cycle, 1 device x {reads['points']} analog inputs (RPM, loopback): "
        f"median {reads['cycle_median_s'] * 1000:.0f} ms, "
        f"max {reads['cycle_max_s'] * 1000:.0f} ms, {reads['values_per_s']:.0f} values/s "
        f"-> {verdict(reads['cycle_median_s'] < READ_TARGET_S)} target < {READ_TARGET_S:g} s"
    )
    found = await bench_discovery(args.window, args.devices)
    if isinstance(found, str):
        print(f"discovery of {args.devices} devices in a namespace: {found}")
    else:
        print(
            f"discovery of {found['devices']}/{found['expected']} devices (broadcast, namespace pair): "
            f"{found['total_s']:.2f} s total, {found['total_s'] - found['window_s']:.2f} s "
            f"after the {found['window_s']:g} s Who-Is window"
        )
    cov = await bench_cov(args.cov_writes)
    print(
        f"COV write -> hub sample ({cov['samples']} notifications): p50 {cov['p50_ms']:.1f} ms, "
        f"p99 {cov['p99_ms']:.1f} ms, max {cov['max_ms']:.1f} ms "
        f"-> {verdict(cov['p99_ms'] < COV_TARGET_MS)} target p99 < {COV_TARGET_MS:g} ms"
    )


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--cycles", type=int, default=10)
    cli.add_argument("--cov-writes", type=int, default=300)
    cli.add_argument("--window", type=float, default=2.0, help="Who-Is window of the discovery (s)")
    cli.add_argument("--devices", type=int, default=20)
    cli.add_argument("--inside", metavar="ADDRESS", help=argparse.SUPPRESS)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(cli.parse_args()))
