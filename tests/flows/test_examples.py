"""The shipped examples in blueprints/: valid against the demo site, and doing their job on the simulator.

The simulator's demo floor (its real physics, stepped in simulated time) is coupled to a flow engine
on the engine's manual clock: every 5 s each point is read from the simulation into a point
registry, and the flows' writes land in the simulation's priority arrays.
"""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.bus import Bus
from hub.commands import WriteOutcome, WriteRequest, WriteResult
from hub.flows.clock import ManualClock
from hub.flows.deployment import check
from hub.flows.engine import EngineContext, FlowEngine
from hub.flows.model import InputType
from hub.flows.nodes import builtin_registry
from hub.points import PointRegistry, PointUpdate
from integrations.simulator.scenario_loader import open_scenario
from integrations.simulator.simulation import Simulation

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {
    str(path.relative_to(ROOT)): path.read_text() for path in sorted(ROOT.glob("blueprints/**/*.y*ml"))
}
MONDAY_9AM = datetime(2027, 1, 4, 9, tzinfo=ZoneInfo("Europe/Paris")).timestamp()  # chiller 1 leads this week
STEP_S = 5


def demo_points(simulation: Simulation, clock: ManualClock) -> PointRegistry:
    points = PointRegistry(Bus(), clock.now)
    for found in simulation.devices:
        points.add_device(found.device, found.points)
    return points


def test_every_example_is_valid_on_the_demo_site():
    clock = ManualClock(MONDAY_9AM)
    checked = check(EXAMPLES, ROOT, builtin_registry(), demo_points(Simulation(open_scenario("demo")), clock))
    assert [str(issue) for issue in checked.issues] == []  # no error, and no warning either
    blueprints = checked.loaded.blueprints
    assert sorted(Path(key).stem for key in blueprints) == [
        "chiller_lead_lag",
        "fan_start_stop",
        "occupancy_setback",
        "sat_reset",
        "vav_zone_pid",
    ]
    assert {spec.blueprint for spec in checked.runnable.values()} == set(
        blueprints
    )  # each one has an instance
    inputs = [item for blueprint in blueprints.values() for item in blueprint.inputs]
    assert {item.type for item in inputs} == set(InputType)
    assert all(item.description for item in inputs)
    assert all(blueprint.description for blueprint in blueprints.values())


class DemoFloor:
    """The demo site and the example instances running on it, both on one manual clock."""

    def __init__(self, start: float) -> None:
        self.simulation = Simulation(open_scenario("demo"), seed=3)
        self.clock = ManualClock(start)
        self.start = start
        self.points = demo_points(self.simulation, self.clock)
        self.ctx = EngineContext(
            builtin_registry(), self.clock, self.points.bus, self.points.latest, self._write, None
        )
        self.points.bus.subscribe(PointUpdate, self.ctx.watchers.on_update)
        self.engine = FlowEngine(self.ctx)
        self._read()

    async def _write(self, request: WriteRequest) -> WriteResult:
        """The one write path's job, reduced to what the simulated device does with a command."""
        old = self.simulation.model.value(request.point_id)
        self.simulation.write(self.points.point(request.point_id), request.value, request.priority)
        return WriteResult(WriteOutcome.WRITTEN, request.point_id, old, request.value, request.priority)

    def _read(self) -> None:
        for found in self.simulation.devices:
            for sample_id, sample in self.simulation.read(found.points, self.clock.now()).items():
                self.points.update(sample_id, sample)

    async def run(self, flow_ids: list[str], seconds: float) -> None:
        checked = check(EXAMPLES, ROOT, builtin_registry(), self.points)
        runners = [self.engine.start(checked.runnable[flow_id]) for flow_id in flow_ids]
        await self.advance(seconds)
        assert [runner.error for runner in runners] == [None] * len(runners)

    async def advance(self, seconds: float) -> None:
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            self.clock.advance(STEP_S)
            self.simulation.advance_to(self.clock.now() - self.start)
            self._read()
            for runner in self.engine:
                await runner.flush()

    def value(self, point_id: str) -> object:
        return self.simulation.model.value(point_id)

    def alarms(self, action: str) -> list[str]:
        """The alarm lines of the execution log (the engine logs alarms when it has no alarm service)."""
        return [line.message for line in self.ctx.logs.lines() if line.message.startswith(f"alarm {action} ")]


@pytest.fixture
def floor() -> DemoFloor:
    return DemoFloor(MONDAY_9AM)


async def test_supply_air_reset_follows_the_outdoor_temperature(floor):
    await floor.run(["demo_sat_reset"], 60)
    outdoor = floor.value("ahu-1.outdoor_air_temp")
    expected = 18 - (outdoor - 5) / 15 * 5  # sat_max 18 at 5 °C down to sat_min 13 at 20 °C
    assert floor.value("ahu-1.supply_air_setpoint") == pytest.approx(expected, abs=0.3)
    assert floor.simulation.priority_array("ahu-1.supply_air_setpoint").slots[9] is not None  # priority 10


async def test_vav_pid_holds_the_zone_at_its_setpoint(floor):
    floor.simulation.write(floor.points.point("vav-2.zone_setpoint"), 23.0, 8)  # an operator's new setpoint
    await floor.run(["demo_vav_2_zone"], 90 * 60)
    assert floor.value("vav-2.zone_temp") == pytest.approx(23.0, abs=0.3)
    assert floor.simulation.priority_array("vav-2.damper_command").slots[9] == floor.value(
        "vav-2.damper_command"
    )


async def test_occupancy_schedule_sets_back_after_hours(floor):
    await floor.run(["demo_vav_1_occupancy"], 60)
    assert (floor.value("vav-1.zone_setpoint"), floor.value("vav-1.occupancy_mode")) == (21, 1)
    await floor.advance(10 * 3600 + 60)  # past 19:00 in Paris
    assert (floor.value("vav-1.zone_setpoint"), floor.value("vav-1.occupancy_mode")) == (26, 2)


async def test_fan_runs_on_schedule_and_a_fan_that_does_not_prove_raises_the_alarm(floor):
    await floor.run(["demo_ahu_1_fan"], 120)
    assert (floor.value("ahu-1.fan_command"), floor.value("ahu-1.fan_status")) == (True, True)
    assert floor.alarms("raise") == []
    assert floor.alarms("clear") == ["alarm clear fan_proof"]  # at start: nothing left from before
    floor.simulation.write(floor.points.point("ahu-1.fan_command"), False, 1)  # tripped: the fan stops
    await floor.advance(120)
    assert floor.alarms("raise") == ["alarm raise fan_proof (major): Fan status does not follow its command"]
    floor.simulation.write(floor.points.point("ahu-1.fan_command"), None, 1)  # reset
    await floor.advance(60)
    assert floor.alarms("clear") == ["alarm clear fan_proof"] * 2


async def test_chiller_lead_runs_and_the_lag_takes_over_when_the_lead_fails(floor):
    await floor.run(["demo_chillers"], 120)
    assert floor.value("ahu-1.cooling_valve_command") > 10  # the demo floor needs cooling
    assert (floor.value("ch-1.command"), floor.value("ch-2.command")) == (True, False)  # chiller 1 leads
    assert floor.value("ch-1.status") is True
    floor.simulation.write(floor.points.point("ch-1.command"), False, 1)  # locked out at the panel
    await floor.advance(3 * 60)
    assert floor.value("ch-2.command") is True
    assert floor.value("ch-2.status") is True
    assert floor.alarms("raise") == ["alarm raise chiller_1_failed (major): Chiller 1 did not prove running"]


async def test_chiller_lead_rotates_weekly():
    floor = DemoFloor(MONDAY_9AM + 7 * 86400)
    await floor.run(["demo_chillers"], 120)
    assert (floor.value("ch-1.command"), floor.value("ch-2.command")) == (False, True)
