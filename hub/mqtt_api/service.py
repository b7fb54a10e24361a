"""The hub's side of the MQTT device contract: command requests, telemetry and alert actions."""

from pathlib import Path

from hub.config import MqttApiConfig
from hub.health import ComponentHealth
from hub.mqtt_api.alerts import AlertActions
from hub.mqtt_api.commands import CommandContext, CommandHandler
from hub.mqtt_api.get_config import GetConfig
from hub.mqtt_api.telemetry import Telemetry
from hub.supervisor import Supervisor


class MqttApi:
    """Starts and stops the contract's parts together; telemetry's batches run as a supervised task."""

    def __init__(
        self, ctx: CommandContext, config: MqttApiConfig, supervisor: Supervisor, data_dir: Path
    ) -> None:
        self._supervisor = supervisor
        self.telemetry = Telemetry(ctx.broker, ctx.points, ctx.identity, config, data_dir)
        self.commands = CommandHandler(ctx, GetConfig(ctx))
        self.alerts = AlertActions(ctx.broker, ctx.bus, ctx.identity)

    def start(self) -> None:
        self.telemetry.start()
        self.commands.start()
        self.alerts.start()
        self._supervisor.spawn("telemetry.bulk", self.telemetry.run)

    async def stop(self) -> None:
        """Stop taking requests and samples; running commands are cancelled."""
        self.alerts.stop()
        await self.commands.stop()
        self.telemetry.stop()
        await self._supervisor.stop_task("telemetry.bulk")

    def health(self) -> ComponentHealth:
        """Telemetry figures, with the command counters."""
        telemetry = self.telemetry.health()
        return ComponentHealth(
            telemetry.status, {**telemetry.detail, "commands": dict(self.commands.counters)}
        )
