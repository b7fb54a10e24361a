"""Fixtures for the simulator: scenario files in tmp_path, and integrations built on real hub parts."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.bus import Bus
from hub.integration import detached_context
from hub.points import PointRegistry, Sample
from hub.supervisor import Supervisor
from integrations.simulator.integration import SimulatorIntegration
from integrations.simulator.scenario import Scenario
from integrations.simulator.scenario_loader import load_scenario, open_scenario
from integrations.simulator.simulation import Simulation
from tests.fake_devices import FakeClock

# A small site; tests append `steps:` to it.
SMALL_SITE = """\
name: Small site
outdoor_air_temp: 10
ahu: {id: ahu-1}
vavs:
  - {id: vav-1}
  - {id: vav-2}
meter: {id: meter-1}
"""


@pytest.fixture
def demo() -> Scenario:
    return open_scenario("demo")


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """Write scenario YAML into tmp_path and return its path."""

    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def small_site(write_scenario: Callable[..., Path]) -> Callable[[str], Scenario]:
    """The small site with these steps (YAML list items, one per line)."""

    def build(steps: str = "") -> Scenario:
        return load_scenario(write_scenario(SMALL_SITE + ("steps:\n" + steps if steps else "")))

    return build


def read(simulation: Simulation, point_id: str) -> Sample:
    """One point's sample now, through the simulation's read path."""
    return simulation.read([simulation.points[point_id]], 0.0)[point_id]


def value(simulation: Simulation, point_id: str) -> float:
    """One point's value now, as a number."""
    return float(read(simulation, point_id).value)  # type: ignore[arg-type]


def command(simulation: Simulation, point_id: str, new: object, priority: int = 8) -> None:
    simulation.write(simulation.points[point_id], new, priority)  # type: ignore[arg-type]


@dataclass
class Built:
    """An integration under test, the registry it registers in, and the clock it reads."""

    integration: SimulatorIntegration
    registry: PointRegistry
    clock: FakeClock


MakeIntegration = Callable[..., Built]


@pytest.fixture
async def make_integration(tmp_path: Path) -> AsyncIterator[MakeIntegration]:
    """Build SimulatorIntegrations on a real registry, supervisor and context, with a fake clock."""
    supervisors: list[Supervisor] = []

    def make(scenario: Scenario, *, seed: int = 0, time_scale: float = 1.0) -> Built:
        registry = PointRegistry(Bus())
        supervisor = Supervisor()
        supervisors.append(supervisor)
        ctx = detached_context("simulator", registry, supervisor, tmp_path)
        clock = FakeClock()
        return Built(
            SimulatorIntegration(ctx, Simulation(scenario, seed), time_scale, clock), registry, clock
        )

    yield make
    for supervisor in supervisors:
        await supervisor.stop()
