"""The Modbus TCP integration: register maps in YAML (types, word and byte order, scaling), planned reads.

Registered through the `bms_hub.integrations` entry point like any third-party integration; see
docs/modbus.md. `bms-hub simulate modbus` runs a simulated device (integrations/modbus/simulator.py).

    integrations:
      modbus:
        devices:
          main-meter: {host: 10.0.0.20, unit: 1, profile: energy_meter}
"""

from hub.integration import IntegrationContext

from .config import CONFIG_SCHEMA, ModbusConfig
from .integration import ModbusIntegration
from .model import DOMAIN
from .simulator import main as simulate_main

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "ModbusIntegration", "async_setup", "simulate_main"]


async def async_setup(ctx: IntegrationContext, config: ModbusConfig) -> ModbusIntegration:
    """Build the integration from what CONFIG_SCHEMA made; connections open on the first poll."""
    return ModbusIntegration(ctx, config)
