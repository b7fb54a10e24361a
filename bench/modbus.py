"""Modbus benchmark: read planning on a 500-register device, and the hub polling 20 devices every second.

Run from the repository root:

    .venv/bin/python bench/modbus.py            # 100 cycles, then 60 s of polling measured
    .venv/bin/python bench/modbus.py --quick    # 30 cycles, then 20 s

Method
- Both parts talk to `python -m integrations.modbus` (= `bms-hub simulate modbus`) in a subprocess on
  127.0.0.1, which counts the requests it receives (its `reset` command on stdin prints and zeroes).
- Part 1, planning: a generated profile of 500 registers (float32, uint16, int32, int64, float64 and
  bit points, small gaps that are bridged and large ones that are not) on one device. The
  integration (in this process, on real hub parts) reads every point once per cycle; the server's
  count per cycle must equal the planned minimum. Cycle time: wall time of one read() of the
  device, median and p95.
- Part 2, polling: the real hub (`python -m hub run`) with 20 energy-meter devices (unit ids 1-20
  behind one simulated gateway: one connection, requests serialised) polled every 1 s. CPU is the
  hub process's user+system time over the window as % of one core; lateness (how long after its
  due time each poll cycle started) is what the hub's poller reports in /api/health.
Nothing is asserted: the figures are printed.
"""

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polling  # the hub subprocess helpers of bench/polling.py
import yaml

from hub.bus import Bus
from hub.integration import detached_context
from hub.points import PointRegistry
from hub.supervisor import Supervisor
from integrations.modbus.config import CONFIG_SCHEMA
from integrations.modbus.integration import ModbusIntegration
from integrations.modbus.planner import plan_reads

REPO = Path(__file__).resolve().parent.parent
MAX_GAP = 8
POLL_DEVICES = 20
_CYCLE = [("float32", 2), ("uint16", 1), ("int32", 2), ("int64", 4), ("float64", 4), ("bit", 1)]

_HUB_CONFIG = """\
log_level: warning
http: {{host: {host}, port: {port}}}
identity: {{org_id: bench, site_id: lab, iot_device_id: hub-1}}
integrations:
  modbus:
    devices:
{devices}
"""


def profile_points() -> list[dict]:
    """500 registers of mixed types in two tables; a bridged gap every 12th point, a wide one every 40th."""
    points, total, index = [], 0, 0
    address = {"holding": 0, "input": 0}
    while total < 500:
        table = "holding" if index % 2 else "input"
        kind, size = _CYCLE[index % len(_CYCLE)]
        if size > 500 - total:
            kind, size = "uint16", 1
        point = {"name": f"p{index}", "table": table, "address": address[table], "type": kind}
        points.append({**point, "bit": 3} if kind == "bit" else point)
        address[table] += size + (4 if index % 12 == 11 else 0) + (60 if index % 40 == 39 else 0)
        total += size
        index += 1
    return points


class Simulator:
    """`python -m integrations.modbus` in a subprocess, with its request counter."""

    def __init__(self, *args: str) -> None:
        command = [sys.executable, "-m", "integrations.modbus", "--port", "0", *args]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO
        )
        line = self.process.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("listening on "):
            raise RuntimeError(f"the simulator did not start: {line!r}")
        self.port = int(line.split()[2].rsplit(":", 1)[1])

    def requests(self) -> int:
        """Requests since the last call."""
        self.process.stdin.write("reset\n")  # type: ignore[union-attr]
        self.process.stdin.flush()  # type: ignore[union-attr]
        return json.loads(self.process.stdout.readline())["requests"]  # type: ignore[union-attr]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


async def planning(sim: Simulator, workdir: Path, points_config: list[dict], cycles: int) -> str:
    """Read the 500-register device `cycles` times; requests per cycle and cycle time."""
    registry, supervisor = PointRegistry(Bus()), Supervisor()
    ctx = detached_context("modbus", registry, supervisor, workdir)
    config = CONFIG_SCHEMA(
        {
            "max_gap": MAX_GAP,
            "profiles": {"big": {"points": points_config}},
            "devices": {"big": {"host": "127.0.0.1", "port": sim.port, "profile": "big"}},
        }
    )
    integration = ModbusIntegration(ctx, config)
    await integration.start()
    device = config.devices[0]
    planned = len(plan_reads(device.points, MAX_GAP))
    points = list(registry.points("big"))
    registers = sum(p.count for p in device.points)
    await integration.read(points)  # connect
    sim.requests()
    counts, times, bad = [], [], 0
    for _ in range(cycles):
        began = time.perf_counter()
        samples = await integration.read(points)
        times.append(time.perf_counter() - began)
        counts.append(sim.requests())
        bad += sum(1 for s in samples.values() if s.quality != "good")
    await integration.stop()
    await supervisor.stop()
    times.sort()
    return (
        f"planning: {len(points)} points in {registers} registers, max_gap {MAX_GAP}: planned minimum "
        f"{planned} requests; requests per cycle min {min(counts)} max {max(counts)} "
        f"({'equal to' if set(counts) == {planned} else 'NOT equal to'} the plan); bad samples {bad}\n"
        f"cycle time over {cycles} cycles: median {1000 * statistics.median(times):.2f} ms, "
        f"p95 {1000 * times[int(0.95 * (len(times) - 1))]:.2f} ms, max {1000 * times[-1]:.2f} ms"
    )


class ModbusHub(polling.Hub):
    """The hub subprocess with `devices` energy meters behind the simulator's port, polled every second."""

    def __init__(self, workdir: Path, sim_port: int, devices: int) -> None:
        self.port = polling._free_port()
        lines = [
            f"      meter-{unit}: {{host: {polling.HOST}, port: {sim_port}, unit: {unit},"
            " profile: energy_meter, poll_interval: 1}"
            for unit in range(1, devices + 1)
        ]
        config = workdir / "hub.yaml"
        config.write_text(_HUB_CONFIG.format(host=polling.HOST, port=self.port, devices="\n".join(lines)))
        self.log = workdir / "hub.log"
        args = [sys.executable, "-m", "hub", "run", "--config", str(config), "--port", str(self.port)]
        args += ["--data-dir", str(workdir / "data"), "--log-level", "warning"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO
            )
        self.ps = polling.psutil.Process(self.process.pid)


def poll_many(workdir: Path, sim: Simulator, devices: int, duration: float, warmup: float) -> str:
    """The hub polling `devices` meters every second: CPU and lateness over `duration` seconds."""
    hub = ModbusHub(workdir, sim.port, devices)
    try:
        polling.wait_ready(hub, devices)
        time.sleep(warmup)
        sim.requests()
        result = polling.measure(hub, duration)
        requests = sim.requests()
    finally:
        hub.stop()
    windows = result["windows"]
    deltas = result["deltas"]
    return (
        f"polling: {devices} energy meters every 1 s for {result['wall']:.0f} s: "
        f"{deltas['cycles'] / result['wall']:.1f} cycles/s, {requests / result['wall']:.0f} requests/s, "
        f"read errors {deltas['read_errors']}\n"
        f"hub CPU {result['cpu']:.1f} % of one core (other processes {result['other']:.0f} %), "
        f"RSS {result['rss']:.0f} MB; lateness p50 {windows[-1].p50:.2f} ms, "
        f"p99 {max(w.p99 for w in windows):.2f} ms, max {max(w.max for w in windows):.2f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 cycles and 20 s of polling")
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of polling measured")
    parser.add_argument("--warmup", type=float, default=5.0)
    args = parser.parse_args(argv)
    cycles, duration = (30, 20.0) if args.quick else (args.cycles, args.duration)
    with tempfile.TemporaryDirectory(prefix="bms-bench-modbus-") as tmp:
        workdir = Path(tmp)
        profile = workdir / "big.yaml"
        points = profile_points()
        profile.write_text(yaml.safe_dump({"points": points}))
        sim = Simulator("--profile", str(profile))
        try:
            print(asyncio.run(planning(sim, workdir, points, cycles)), flush=True)
        finally:
            sim.stop()
        gateway = Simulator("--profile", "energy_meter", "--unit", f"1-{POLL_DEVICES}")
        try:
            print(poll_many(workdir, gateway, POLL_DEVICES, duration, args.warmup))
        except RuntimeError as err:
            print(f"bench failed: {err}", file=sys.stderr)
            return 1
        finally:
            gateway.stop()
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        sys.exit(main())
