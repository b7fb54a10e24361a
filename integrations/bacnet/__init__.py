"""BACnet/IP through bacpypes3: discovery, RPM polling, COV, writes at a priority, a simulator and a doctor.

Registered through the `bms_hub.integrations` entry point like any third-party integration; see
docs/bacnet.md. Minimal config:

    integrations:
      bacnet:
        address: 10.77.0.1/24     # this machine's interface address with its prefix
        devices:
          - {instance: 1001, address: 10.77.0.20}

The integration, the commands and the simulator are imported when used: a simulated device process
then starts without loading the hub's broker (half of its start-up time).
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .config import CONFIG_SCHEMA, BacnetConfig
from .scan import DOMAIN

if TYPE_CHECKING:
    from hub.integration import IntegrationContext

    from .integration import BacnetIntegration

__all__ = ["CONFIG_SCHEMA", "DOMAIN", "async_setup", "command_main", "simulate_main"]


async def async_setup(ctx: "IntegrationContext", config: Mapping[str, Any]) -> "BacnetIntegration":
    """Build the integration; it binds (and reports a bad address or a busy port) in start()."""
    from .integration import BacnetIntegration

    return BacnetIntegration(ctx, BacnetConfig.from_validated(config))


def simulate_main(argv: list[str]) -> int:
    """`bms-hub simulate bacnet ...`: run simulated devices."""
    from .simulator import main

    return main(argv)


def command_main(argv: list[str]) -> int:
    """`bms-hub bacnet doctor | discover ...`."""
    from .commands import main

    return main(argv)
