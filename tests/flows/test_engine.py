"""The engine: topological propagation, isolation, timers on a manual clock, traces, dry-run writes."""

import pytest

from hub.alarms.model import FlowErrored
from hub.flows.runner import FlowState
from tests.flows.helpers import feed, flow, manual_engine, new_points

DIAMOND = """\
flow: {id: diamond}
nodes:
  - {id: temp, type: watch, point: dev.temp}
  - {id: double, type: gain, factor: 2}
  - {id: triple, type: gain, factor: 3}
  - {id: sum, type: add}
  - {id: out, type: write, point: dev.out}
edges:
  - {from: temp.value, to: double.in}
  - {from: temp.value, to: triple.in}
  - {from: double.out, to: sum.a}
  - {from: triple.out, to: sum.b}
  - {from: sum.sum, to: out.in}
"""


def test_values_propagate_in_topological_order():
    points = new_points()
    engine, clock = manual_engine(points)
    runner = engine.start(flow(DIAMOND))

    feed(points, "dev.temp", 1.0, clock.now())
    feed(points, "dev.temp", 2.0, clock.now())

    # sum handles both branches before out sees anything: the writes follow a, then b
    assert [(w.point_id, w.value, w.priority) for w in runner.writes] == [
        ("dev.out", 2.0, 8),
        ("dev.out", 5.0, 8),
        ("dev.out", 7.0, 8),
        ("dev.out", 10.0, 8),
    ]
    run = runner.traces.runs()[-1]
    assert [step.node_id for step in run.steps] == ["temp", "double", "triple", "sum", "sum", "out", "out"]
    assert (run.steps[3].outputs, run.steps[4].outputs) == ((("sum", 7.0),), (("sum", 10.0),))
    assert run.trigger == "point dev.temp"


def test_a_flow_that_raises_is_stopped_and_reported_while_another_runs_on():
    points = new_points()
    engine, clock = manual_engine(points)
    errors: list[FlowErrored] = []
    points.bus.subscribe(FlowErrored, errors.append)
    bad = engine.start(
        flow(
            "flow: {id: bad}\nnodes:\n  - {id: temp, type: watch, point: dev.temp}\n"
            "  - {id: boom, type: boom}\n"
            "  - {id: out, type: write, point: dev.out2}\n"
            "edges:\n  - {from: temp.value, to: boom.in}\n"
        )
    )
    good = engine.start(flow(DIAMOND))

    feed(points, "dev.temp", 1.0, clock.now())
    feed(points, "dev.temp", 2.0, clock.now())

    assert (bad.state, good.state) == (FlowState.ERRORED, FlowState.RUNNING)
    assert "node boom raised ZeroDivisionError('boom')" in (bad.error or "")
    assert [e.flow_id for e in errors] == ["bad"]
    assert [w.value for w in good.writes] == [2.0, 5.0, 7.0, 10.0]
    assert [(w.point_id, w.value) for w in bad.writes] == [("dev.out2", None)]  # relinquished when stopped
    assert bad.traces.runs()[-1].error == bad.error


def test_timers_run_on_the_manual_clock_and_a_delay_breaks_a_cycle():
    points = new_points()
    engine, clock = manual_engine(points)
    runner = engine.start(
        flow(
            "flow: {id: loop}\nnodes:\n  - {id: one, type: constant, value: 1}\n  - {id: sum, type: add}\n"
            "  - {id: later, type: delay, delay: 10s}\n  - {id: out, type: write, point: dev.out}\n"
            "edges:\n  - {from: one.value, to: sum.a}\n  - {from: sum.sum, to: later.in}\n"
            "  - {from: later.out, to: sum.b}\n  - {from: later.out, to: out.in}\n"
        )
    )
    start = clock.now()
    clock.advance(9.9)
    assert list(runner.writes) == []

    clock.advance(0.1)
    clock.advance(10)

    assert [(w.at - start, w.value) for w in runner.writes] == [(10.0, 1), (20.0, 2)]


@pytest.mark.parametrize("depth", [0, 3])
def test_traces_keep_the_last_n_runs(depth):
    points = new_points()
    engine, clock = manual_engine(points, trace_depth=depth)
    runner = engine.start(flow(DIAMOND))

    for value in range(10):
        feed(points, "dev.temp", float(value), clock.now())

    assert [run.run for run in runner.traces.runs()] == list(range(12 - depth, 12))


async def test_stop_relinquishes_and_cancels_timers():
    points = new_points()
    engine, clock = manual_engine(points)
    runner = engine.start(
        flow(
            "flow: {id: f}\nnodes:\n  - {id: temp, type: watch, point: dev.temp}\n"
            "  - {id: later, type: delay, delay: 5s}\n  - {id: out, type: write, point: dev.out}\n"
            "edges:\n  - {from: temp.value, to: later.in}\n  - {from: later.out, to: out.in}\n"
        )
    )
    feed(points, "dev.temp", 3.0, clock.now())

    await engine.stop("f")
    clock.advance(10)
    feed(points, "dev.temp", 4.0, clock.now())

    assert runner.state == FlowState.STOPPED
    assert [(w.point_id, w.value) for w in runner.writes] == [("dev.out", None)]
    assert clock.pending == 0


def test_a_node_that_cannot_be_built_errors_its_flow_only():
    points = new_points()
    engine, _ = manual_engine(points)
    errors: list[FlowErrored] = []
    points.bus.subscribe(FlowErrored, errors.append)

    runner = engine.start(flow("flow: {id: f}\nnodes:\n  - {id: a, type: gain}\n  - {id: b, type: broken}\n"))

    assert runner.state == FlowState.ERRORED
    assert runner.error == "node b could not be created: RuntimeError('cannot be built')"
    assert [e.error for e in errors] == [runner.error]
