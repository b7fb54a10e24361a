"""The simulator's config schema: defaults, the scale-out, and refusals."""

import pytest
import voluptuous as vol

from integrations.simulator.config import CONFIG_SCHEMA, SimulatorConfig
from integrations.simulator.scaleout import ScaleOutSpec


def test_config__defaults():
    assert SimulatorConfig.from_validated(CONFIG_SCHEMA({})) == SimulatorConfig("demo", 0, 1.0, 5.0, None)


def test_config__everything_set():
    config = CONFIG_SCHEMA(
        {
            "scenario": "site/floor2.yaml",
            "seed": 7,
            "time_scale": 60,
            "poll_interval": 2,
            "devices": {"count": 100, "points_per_device": 100},
        }
    )
    assert SimulatorConfig.from_validated(config) == SimulatorConfig(
        "site/floor2.yaml", 7, 60.0, 2.0, ScaleOutSpec(100, 100)
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"time_scale": 0}, "expected a number above 0 and at most 600"),
        ({"time_scale": 601}, "expected a number above 0 and at most 600"),
        ({"seed": -1}, "expected int >= 0"),
        ({"seed": 1.5}, "expected int >= 0"),
        ({"poll_interval": 0}, "expected a number of seconds between 0.1 and 3600"),
        ({"scenario": ""}, "expected a non-empty string"),
        ({"devices": {"points_per_device": 3}}, "required key not provided"),
        ({"devices": {"count": 5, "points": 3}}, "extra keys not allowed"),
        ({"speed": 2}, "extra keys not allowed"),
    ],
)
def test_config__invalid(config, message):
    with pytest.raises(vol.Invalid) as caught:
        CONFIG_SCHEMA(config)
    assert message in str(caught.value)
