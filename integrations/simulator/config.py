"""The simulator's entry in the hub config: which scenario, seed, time scale, poll interval and scale-out."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from hub.config import integer, seconds, section, string

from .scaleout import ScaleOutSpec

MAX_TIME_SCALE = 600.0  # ten simulated minutes per wall second: 600 model steps a second is the most we spend


@dataclass(frozen=True)
class SimulatorConfig:
    """The validated `integrations: simulator:` settings."""

    scenario: str = (
        "demo"  # a built-in scenario's name, or a YAML file (relative to the config file's folder)
    )
    seed: int = 0
    time_scale: float = 1.0  # simulated seconds per wall second
    poll_interval: float = 5.0  # seconds of wall time between polls of each device
    devices: ScaleOutSpec | None = None

    @classmethod
    def from_validated(cls, config: Mapping[str, Any]) -> "SimulatorConfig":
        """Build from what CONFIG_SCHEMA returned."""
        return cls(**config)


def _time_scale(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_TIME_SCALE:
        raise vol.Invalid(f"expected a number above 0 and at most {MAX_TIME_SCALE:g}")
    return float(value)


SCALE_OUT_SCHEMA = vol.Schema(
    {vol.Required("count"): integer(0, 1000), vol.Optional("points_per_device"): integer(1, 1000)}
)
CONFIG_SCHEMA = vol.Schema(
    {
        vol.Optional("scenario"): string,
        vol.Optional("seed"): integer(0),
        vol.Optional("time_scale"): _time_scale,
        vol.Optional("poll_interval"): seconds(0.1, 3600),
        vol.Optional("devices"): section(SCALE_OUT_SCHEMA, ScaleOutSpec),
    }
)
