"""Replay: on samples recorded in a real store, a flow decides the same writes, at the same times, as live."""

import math
from pathlib import Path

from hub.commands import WriteOutcome, WriteRequest, WriteResult
from hub.config import StoreConfig
from hub.flows.clock import ManualClock
from hub.flows.engine import EngineContext, FlowEngine
from hub.flows.nodes import builtin_registry
from hub.flows.replay import replay
from hub.points import PointUpdate, Sample
from hub.store import Store
from hub.store_query import History
from hub.supervisor import Supervisor
from tests.flows.helpers import flow, new_points

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
FAN = """\
flow: {id: fan}
nodes:
  - {id: temp, type: point_change, point: dev.temp}
  - {id: hot, type: hysteresis, on_at: 22, off_at: 20}
  - {id: held, type: on_delay, delay: 5m}
  - {id: fan, type: point_write, point: dev.out}
edges:
  - {from: temp.value, to: hot.value}
  - {from: hot.out, to: held.in}
  - {from: held.out, to: fan.value}
"""


async def test_replay_gives_the_writes_the_live_flow_made(tmp_path: Path):
    clock = ManualClock(T0)
    points = new_points(clock)
    quiet = StoreConfig(commit_interval=3600)  # the test flushes
    store = Store(quiet, tmp_path / "hub.db", points.bus, Supervisor(), clock=clock.now)
    await store.start()
    sent: list[WriteRequest] = []

    async def write(request: WriteRequest) -> WriteResult:  # the write path's answer (no device needed)
        sent.append(request)
        return WriteResult(WriteOutcome.WRITTEN, request.point_id, None, request.value, request.priority)

    ctx = EngineContext(builtin_registry(), clock, points.bus, points.latest, write, None)
    points.bus.subscribe(PointUpdate, ctx.watchers.on_update)
    spec = flow(FAN)
    live = FlowEngine(ctx).start(spec)
    for minute in range(180):  # three hours of a temperature swinging between 16 and 26 degrees
        clock.advance_to(T0 + minute * 60)
        points.update("dev.temp", Sample(round(21 + 5 * math.sin(minute / 15), 2), clock.now()))
        await live.flush()
    clock.advance_to(T0 + 180 * 60)
    await live.flush()
    assert await store.flush()
    live_writes = [(w.at, w.point_id, w.value, w.priority) for w in live.writes]

    replayed = await replay(spec, builtin_registry(), History(store), T0, T0 + 180 * 60)
    await live.stop()
    await store.stop()

    assert len(live_writes) == 5, live_writes  # off at start, then on and off twice
    assert [(w.at, w.point_id, w.value, w.priority) for w in replayed.writes] == live_writes
    assert [w.outcome for w in replayed.writes] == ["dry_run"] * len(live_writes)
    assert (replayed.samples, replayed.error) == (180, None)
    assert [r.value for r in sent][: len(live_writes)] == [w[2] for w in live_writes]
