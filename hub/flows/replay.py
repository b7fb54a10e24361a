"""Replay: run a flow against recorded history on a manual clock, as fast as it goes, writes recorded.

The flow sees the samples the store kept for the points it watches and reads, in time order, with
its timers firing at their recorded times; nothing is written or published. The result says what it
would have written, and when.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

from hub.bus import Bus
from hub.flows.clock import ManualClock
from hub.flows.engine import EngineContext
from hub.flows.model import FlowSpec
from hub.flows.node import NodeRegistry
from hub.flows.runner import FlowRunner, WriteRecord
from hub.flows.validate import params_of
from hub.points import Sample
from hub.store_query import History
from hub.store_samples import QUALITIES

REPLAY_WRITES = 100_000  # writes kept from one replay
_YIELD_EVERY = 2_000  # samples between yields to the event loop


@dataclass(frozen=True)
class ReplayResult:
    """What a flow would have done over [start, end)."""

    flow_id: str
    start: float
    end: float
    samples: int
    runs: int
    writes: tuple[WriteRecord, ...]
    error: str | None

    def json(self) -> dict[str, Any]:
        return {
            "flow_id": self.flow_id,
            "start": self.start,
            "end": self.end,
            "samples": self.samples,
            "runs": self.runs,
            "error": self.error,
            "writes": [write.json() for write in self.writes],
        }


def input_points(spec: FlowSpec, registry: NodeRegistry) -> list[str]:
    """The points the flow watches or reads (its point parameters that it does not write)."""
    found: dict[str, None] = {}
    for node in spec.nodes:
        node_type = registry.get(node.type)
        if node_type is None:
            continue
        params = params_of(node, node_type)
        for name in node_type.POINT_PARAMS:
            if name not in node_type.WRITE_PARAMS:
                value = params.get(name)
                for point_id in [value] if isinstance(value, str) else value or ():
                    found[point_id] = None
    return list(found)


async def replay(
    spec: FlowSpec, registry: NodeRegistry, history: History, start: float, end: float
) -> ReplayResult:
    """Run `spec` over the samples stored between `start` and `end` (UTC epoch seconds)."""
    keys = await history.keys(input_points(spec, registry))
    timeline: list[tuple[int, str, Sample]] = []
    for point_id, key in keys.items():
        for ts, value, quality in await history.raw(key, int(start * 1000), int(end * 1000)):
            timeline.append((ts, point_id, Sample(value, ts / 1000, QUALITIES[quality])))
    timeline.sort(key=lambda item: item[0])
    clock = ManualClock(start)
    latest: dict[str, Sample] = {}
    ctx = EngineContext(registry, clock, Bus(), latest.get, None, None)
    runner = FlowRunner(spec, ctx, trace_depth=0, dry_run=True, write_history=REPLAY_WRITES)
    runner.start()
    for count, (ts, point_id, sample) in enumerate(timeline, 1):
        clock.advance_to(ts / 1000)
        latest[point_id] = sample
        ctx.watchers.deliver(point_id, sample)
        if count % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
    clock.advance_to(end)
    writes = tuple(runner.writes)  # before stopping: relinquishing at the end is not part of the replay
    await runner.stop()
    return ReplayResult(spec.id, start, end, len(timeline), runner.runs, writes, runner.error)
