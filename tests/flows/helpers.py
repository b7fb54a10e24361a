"""Building flows from YAML text and engines on a manual clock, for the flow tests."""

from pathlib import Path

from hub.bus import Bus
from hub.flows.clock import ManualClock
from hub.flows.engine import EngineContext, FlowEngine
from hub.flows.loader import Loaded, load_deployment
from hub.flows.model import FlowSpec
from hub.flows.node import NodeRegistry
from hub.points import Device, Point, PointRegistry, PointUpdate, Sample
from tests.flows.fake_nodes import fake_registry


def load(files: dict[str, str], base: Path = Path("/site")) -> Loaded:
    return load_deployment(files, base)


def flow(text: str, key: str = "flows/test.yaml") -> FlowSpec:
    """The one flow in `text`; fails the test when it does not load."""
    loaded = load({key: text})
    assert not loaded.issues, [str(issue) for issue in loaded.issues]
    (spec,) = loaded.flows.values()
    return spec


def manual_engine(
    points: PointRegistry, registry: NodeRegistry | None = None, trace_depth: int = 50
) -> tuple[FlowEngine, ManualClock]:
    """An engine with writes only recorded, on a manual clock, watching `points`."""
    clock = ManualClock(1_000_000.0)
    ctx = EngineContext(registry or fake_registry(), clock, points.bus, points.latest, None, None)
    points.bus.subscribe(PointUpdate, ctx.watchers.on_update)
    return FlowEngine(ctx, trace_depth), clock


def new_points(clock: ManualClock | None = None) -> PointRegistry:
    """Device `dev` with analog points `temp`, `other` (read-only) and `out`, `out2` (writable)."""
    points = PointRegistry(Bus(), clock.now if clock else lambda: 0.0)
    points.add_device(
        Device("dev", "Device", "fake"),
        [
            Point("dev.temp", "dev", "temp"),
            Point("dev.other", "dev", "other"),
            Point("dev.out", "dev", "out", writable=True),
            Point("dev.out2", "dev", "out2", writable=True),
        ],
    )
    return points


def feed(points: PointRegistry, point_id: str, value: float, at: float) -> None:
    points.update(point_id, Sample(value, at))
