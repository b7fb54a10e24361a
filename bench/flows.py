"""Flow engine benchmark: node evaluations/s, point change -> device write latency, 200 flows x 20 nodes.

Run from the repository root:

    .venv/bin/python bench/flows.py            # 5 runs of each part, 20 s of the 200-flow load
    .venv/bin/python bench/flows.py --quick    # 3 runs, 5 s

Method (one process, one event loop, so one core; every figure is a median over the runs)
- Evaluations/s: one flow, a `point_change` trigger and a chain of `scale` nodes (simple nodes), fed
  samples straight from the engine's point watchers on a manual clock. Evaluations = node handler
  calls; measured with traces off (trace_depth 0) and with the default 50 runs kept.
- Latency: a `point_change -> scale -> point_write` flow on the live clock, its writes through the
  real CommandService (checks, audit, read-back) to an in-memory integration (this benchmark's
  stand-in for a device: its write() returns at once). From `PointRegistry.update()` of the input to
  the integration's write() being called; p50 and p99 of 2,000 changes.
- Load: 200 flows of 20 nodes (point_change, 18 simple math/logic nodes, point_write) on 200 input
  and 200 output points; 40 input changes/s (each point every 5 s, a new value each time), writes
  through the write path. Each run in a fresh interpreter: RSS (VmRSS) before and after loading the
  flows, and CPU (user+system) over the window as % of one core.
Nothing is asserted: the figures are printed.
"""

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from hub.bus import Bus
from hub.commands import CommandService
from hub.flows.clock import LoopClock, ManualClock
from hub.flows.engine import EngineContext, FlowEngine
from hub.flows.loader import load_deployment
from hub.flows.model import FlowSpec
from hub.flows.nodes import builtin_registry
from hub.health import ComponentHealth, HealthStatus
from hub.points import Device, Point, PointRegistry, PointUpdate, Sample, Value


class MemoryDevice:
    """An integration whose device answers at once: the write path's cost without a protocol."""

    def __init__(self) -> None:
        self.values: dict[str, Value] = {}
        self.written = asyncio.Event()
        self.writes = 0

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def discover(self, request: object) -> object:
        raise NotImplementedError

    async def read(self, points: Sequence[Point]) -> Mapping[str, Sample]:
        return {point.id: Sample(self.values.get(point.id), time.time()) for point in points}

    async def write(self, point: Point, value: Value, priority: int) -> None:
        self.values[point.id] = value
        self.writes += 1
        self.written.set()

    def health(self) -> ComponentHealth:
        return ComponentHealth(HealthStatus.OK)


Node = tuple[str, str, str]  # YAML flow mapping of the node's type and parameters, input port, output port
SCALE: Node = ("type: scale, in_min: 0, in_max: 100, out_min: 0, out_max: 100", "value", "value")
LOGIC: list[Node] = [
    SCALE,
    ("type: deadband, band: 0.1", "value", "value"),
    ("type: changed", "value", "value"),
]


def flow(flow_id: str, source: str, middle: list[Node], target: str | None) -> FlowSpec:
    """A chain: point_change on `source`, the `middle` nodes, then a point_write to `target` (if any)."""
    nodes = [f"  - {{id: n0, type: point_change, point: {source}, initial: false}}"]
    nodes += [f"  - {{id: n{i}, {spec}}}" for i, (spec, _, _) in enumerate(middle, 1)]
    ports = [("", "value"), *[(inp, out) for _, inp, out in middle]]
    if target is not None:
        nodes.append(
            f"  - {{id: n{len(middle) + 1}, type: point_write, point: {target}, only_changes: false}}"
        )
        ports.append(("value", ""))
    edges = [
        f"  - {{from: n{i}.{ports[i][1]}, to: n{i + 1}.{ports[i + 1][0]}}}" for i in range(len(nodes) - 1)
    ]
    text = f"flow: {{id: {flow_id}}}\nnodes:\n" + "\n".join(nodes) + "\nedges:\n" + "\n".join(edges) + "\n"
    return load_deployment({f"flows/{flow_id}.yaml": text}, Path("/bench")).flows[flow_id]


def registry_with(count: int) -> PointRegistry:
    points = PointRegistry(Bus())
    points.add_device(
        Device("dev", "Bench device", "bench"),
        [Point(f"dev.in{i}", "dev", f"in{i}") for i in range(count)]
        + [Point(f"dev.out{i}", "dev", f"out{i}", writable=True) for i in range(count)],
    )
    return points


def evaluations(samples: int, chain: int, trace_depth: int) -> float:
    """Node handler calls per second for a chain of `chain` scale nodes."""
    points = registry_with(1)
    ctx = EngineContext(builtin_registry(), ManualClock(0.0), points.bus, points.latest, None, None)
    runner = FlowEngine(ctx, trace_depth).start(flow("chain", "dev.in0", [SCALE] * chain, None))
    deliver = ctx.watchers.deliver
    began = time.perf_counter()
    for i in range(samples):
        deliver("dev.in0", Sample(float(i % 100), float(i)))
    elapsed = time.perf_counter() - began
    assert (runner.error, runner.runs) == (None, samples + 1)
    return samples * (chain + 1) / elapsed


def hub_parts(count: int) -> tuple[PointRegistry, MemoryDevice, EngineContext]:
    points = registry_with(count)
    device = MemoryDevice()
    commands = CommandService(points, lambda domain: device, points.bus)  # type: ignore[arg-type, return-value]
    ctx = EngineContext(builtin_registry(), LoopClock(), points.bus, points.latest, commands.write, None)
    points.bus.subscribe(PointUpdate, ctx.watchers.on_update)
    return points, device, ctx


async def latency(changes: int) -> tuple[float, float]:
    """(p50, p99) ms from a point update to the device's write."""
    points, device, ctx = hub_parts(1)
    runner = FlowEngine(ctx).start(flow("one", "dev.in0", [SCALE], "dev.out0"))
    await asyncio.sleep(0)
    found = []
    for i in range(changes):
        device.written.clear()
        began = time.perf_counter()
        points.update("dev.in0", Sample(float(i % 97), time.time()))
        await device.written.wait()
        found.append((time.perf_counter() - began) * 1000)
        await runner.flush()
    await runner.stop()
    quantiles = statistics.quantiles(found, n=100)
    return quantiles[49], quantiles[98]


async def load(seconds: float, flows: int = 200, rate: float = 40.0) -> tuple[float, float, float, int]:
    """(RSS MB before, after loading, CPU % of one core) for `flows` 20-node flows at `rate` changes/s."""
    before = _rss_mb()
    points, device, ctx = hub_parts(flows)
    engine = FlowEngine(ctx)
    middle = (LOGIC * 6)[:18]
    for i in range(flows):
        engine.start(flow(f"f{i}", f"dev.in{i}", middle, f"dev.out{i}"))
    loaded = _rss_mb()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    sent, i = 0, 0
    while time.perf_counter() - wall0 < seconds:
        points.update(f"dev.in{i % flows}", Sample(float(sent // flows % 10), time.time()))  # a new value
        sent, i = sent + 1, i + 1
        await asyncio.sleep(max(0.0, wall0 + sent / rate - time.perf_counter()))
    cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0) * 100
    writes = device.writes  # before the flows stop and relinquish
    await engine.stop_all()
    return before, loaded, cpu, writes


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load_in_new_process(window: float) -> tuple[float, float, float, int]:
    out = subprocess.run(
        [sys.executable, __file__, "--load-only", str(window)], check=True, capture_output=True, text=True
    ).stdout
    return tuple(json.loads(out))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--load-only", type=float, help=argparse.SUPPRESS)  # one load run, as JSON
    args = parser.parse_args()
    if args.load_only:
        print(json.dumps(asyncio.run(load(args.load_only))))
        return
    runs, window = (3, 5.0) if args.quick else (5, 20.0)
    for depth in (0, 50):
        figures = [evaluations(20_000, 10, depth) for _ in range(runs)]
        each = ", ".join(f"{figure:,.0f}" for figure in figures)
        print(f"node evaluations/s (10 scale nodes in a chain, trace_depth {depth}): median "
              f"{statistics.median(figures):,.0f} (runs: {each})")  # fmt: skip
    results = [asyncio.run(latency(2_000)) for _ in range(runs)]
    p50, p99 = statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)
    print(f"point change -> device write through engine + CommandService: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    loads = [_load_in_new_process(window) for _ in range(runs)]  # RSS from a fresh interpreter each time
    grown = statistics.median(after - before for before, after, _, _ in loads)
    process = statistics.median(after for _, after, _, _ in loads)
    cpu = statistics.median(cpu for _, _, cpu, _ in loads)
    writes = statistics.median(writes for _, _, _, writes in loads)
    print(f"200 flows x 20 nodes, 40 changes/s for {window:g} s: flows RSS +{grown:.1f} MB "
          f"(process {process:.1f} MB), CPU {cpu:.1f} % of one core, {writes:.0f} writes")  # fmt: skip


if __name__ == "__main__":
    main()
