"""Node library benchmark: `on_input` calls per second of each simple built-in node type, without the engine.

Run from the repository root:

    .venv/bin/python bench/flow_nodes.py            # 5 runs of 200,000 calls per type
    .venv/bin/python bench/flow_nodes.py --quick    # 3 runs of 50,000

Method (one process, one core): each node is built from its schema-validated parameters with a
runtime whose `emit` only counts, then fed a prepared cycle of input values in a tight loop. The
figure is calls/s, median over the runs; it is the node's own cost, the ceiling the engine's
propagation and traces come on top of (bench/flows.py measures through the engine). The issue's
target is >= 200,000 simple node evaluations/s on one core. Nothing is asserted: figures are printed.
"""

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

from hub.flows.node import AlarmSeverity, Node
from hub.flows.nodes import builtin_registry
from hub.points import Sample, Value

TARGET = 200_000

# type, parameters, inputs given once beforehand, the input port fed, a cycle of values
CASES: list[tuple[str, dict[str, Any], dict[str, Any], str, tuple[Any, ...]]] = [
    ("scale", {"in_min": 0, "in_max": 100, "out_min": 18, "out_max": 12}, {}, "value", (10.0, 55.5, 90.0)),
    ("compare", {"operator": ">", "b": 21}, {}, "a", (20.5, 21.5)),
    ("not", {}, {}, "in", (True, False)),
    ("and", {}, {"in2": True}, "in1", (True, False)),
    ("min", {}, {"in2": 21.0}, "in1", (20.5, 22.0)),
    ("hysteresis", {"on_at": 24, "off_at": 22}, {}, "value", (21.0, 23.0, 25.0, 23.0)),
    ("deadband", {"band": 0.5}, {}, "value", (20.0, 20.2, 20.9, 21.0)),
    ("changed", {}, {}, "value", (1, 1, 2, 2)),
    ("expression", {"expression": "a * 0.5 + b"}, {"b": 1.0}, "a", (10.0, 11.0)),
    ("point_write", {"point": "p"}, {}, "value", (1.0, 2.0)),
]


class CountingRuntime:
    """A NodeRuntime that counts emits and ignores side effects: only the node's own work is timed."""

    flow_id = "bench"
    node_id = "node"

    def __init__(self) -> None:
        self.emits = 0

    def now(self) -> float:
        return 0.0

    def parameter(self, name: str) -> Any:
        return None

    def emit(self, port: str, value: Any) -> None:
        self.emits += 1

    def call_later(self, delay: float, callback: Callable[[], None]) -> Any:
        raise RuntimeError("simple nodes set no timers")

    call_at = call_later

    def watch_point(self, point_id: str, callback: Callable[[Sample], None]) -> None: ...

    def read_point(self, point_id: str) -> Sample | None:
        return None

    def write_point(self, point_id: str, value: Value, priority: int) -> None:
        self.emits += 1

    def publish(self, topic: str, payload: str, qos: int = 0, retain: bool = False) -> None: ...

    def raise_alarm(self, alarm_id: str, severity: AlarmSeverity, message: str) -> None: ...

    def clear_alarm(self, alarm_id: str) -> None: ...

    def log(self, level: int, message: str) -> None: ...


def calls_per_second(
    node_type: type[Node],
    params: dict[str, Any],
    given: dict[str, Any],
    port: str,
    values: tuple[Any, ...],
    calls: int,
) -> float:
    runtime = CountingRuntime()
    node = node_type(node_type.SCHEMA(params), runtime)
    for other, value in given.items():  # e.g. a gate's other input, so every call evaluates
        node.on_input(other, value)
    on_input = node.on_input
    feed = list(itertools.islice(itertools.cycle(values), calls))
    started = time.perf_counter()
    for value in feed:
        on_input(port, value)
    return calls / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs of 50,000 calls per type")
    args = parser.parse_args()
    runs, calls = (3, 50_000) if args.quick else (5, 200_000)
    registry = builtin_registry()
    print(f"on_input calls/s per node type, median of {runs} runs of {calls:,} calls (target >= {TARGET:,})")
    medians = []
    for type_name, params, given, port, values in CASES:
        node_type = registry.get(type_name)
        assert node_type is not None
        median = statistics.median(
            calls_per_second(node_type, params, given, port, values, calls) for _ in range(runs)
        )
        medians.append(median)
        verdict = "meets" if median >= TARGET else "below"
        print(f"  {type_name:<12} {median:>12,.0f}/s  {verdict}")
    print(f"slowest {min(medians):,.0f}/s, median over types {statistics.median(medians):,.0f}/s")


if __name__ == "__main__":
    main()
