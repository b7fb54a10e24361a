"""The simulator integration: a simulated office floor (air handler, VAV boxes, meter) from a scenario YAML.

Registered through the `bms_hub.integrations` entry point like any third-party integration. The
model is deterministic for a scenario and seed and runs at `time_scale` times wall time; see
docs/simulator.md. Config (all optional):

    integrations:
      simulator:
        scenario: demo          # built-in name, or a YAML file relative to the config file
        seed: 0
        time_scale: 1           # simulated seconds per wall second
        poll_interval: 5        # seconds
        devices: {count: 100, points_per_device: 100}   # generated devices for load tests
"""

from collections.abc import Mapping
from typing import Any

from hub.integration import IntegrationContext

from .config import CONFIG_SCHEMA, SimulatorConfig
from .equipment import DOMAIN
from .integration import SimulatorIntegration
from .runner import main as simulate_main
from .scenario_loader import open_scenario
from .simulation import Simulation

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "SimulatorIntegration", "async_setup", "simulate_main"]


async def async_setup(ctx: IntegrationContext, config: Mapping[str, Any]) -> SimulatorIntegration:
    """Load the scenario (a bad one fails setup with its file:line issues) and build the simulator."""
    settings = SimulatorConfig.from_validated(config)
    scenario = open_scenario(settings.scenario, ctx.config_dir)
    simulation = Simulation(
        scenario, settings.seed, poll_interval=settings.poll_interval, scale_out=settings.devices
    )
    return SimulatorIntegration(ctx, simulation, settings.time_scale)
