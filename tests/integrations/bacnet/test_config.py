"""The bacnet config schema: what it accepts, and what a wrong entry is told."""

import ipaddress

import pytest
import voluptuous as vol

from hub.config import load_config
from hub.preflight import check_integration_configs
from integrations.bacnet.config import CONFIG_SCHEMA, BacnetConfig, CovMode


def test_config__valid():
    config = BacnetConfig.from_validated(
        CONFIG_SCHEMA(
            {
                "address": "10.77.0.1/24",
                "port": 47809,
                "foreign_device": {"bbmd": "10.0.0.5:47808", "ttl": 120},
                "cov": "confirmed",
                "devices": [{"instance": 1001, "address": "10.77.0.20", "cov": False}],
            }
        )
    )
    assert config.address == ipaddress.IPv4Interface("10.77.0.1/24")
    assert config.bind_address == "10.77.0.1/24:47809"
    assert (config.foreign_device.bbmd, config.foreign_device.ttl) == ("10.0.0.5:47808", 120)
    assert config.cov == CovMode.CONFIRMED
    assert config.devices[0].cov == CovMode.OFF


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"address": "10.77.0.1"},
            "expected an IPv4 interface address with its prefix, such as 10.77.0.1/24",
        ),
        ({"address": "10.77.0.1/33"}, "expected an IPv4 interface address with its prefix"),
        ({"address": "10.77.0.1/24", "port": 0}, "expected int between 1 and 65535"),
        (
            {"address": "10.77.0.1/24", "devices": [{"instance": 4194303}]},
            "expected int between 0 and 4194302",
        ),
        ({"address": "10.77.0.1/24", "devices": [{"address": "10.0.0.1"}]}, "required key not provided"),
        ({"address": "10.77.0.1/24", "foreign_device": {"bbmd": "bbmd.local"}}, "expected an IPv4 address"),
        ({"address": "10.77.0.1/24", "cov": "sometimes"}, "expected one of off, unconfirmed, confirmed"),
        ({"address": "10.77.0.1/24", "colour": "red"}, "extra keys not allowed"),
    ],
)
def test_config__invalid(raw, message):
    with pytest.raises(vol.Invalid, match=message):
        CONFIG_SCHEMA(raw)


def test_config__cov_per_object_overrides_the_device_and_the_integration():
    config = BacnetConfig.from_validated(
        CONFIG_SCHEMA(
            {
                "address": "10.77.0.1/24",
                "cov": "unconfirmed",
                "cov_poll_interval": 600,
                "devices": [
                    {
                        "instance": 1001,
                        "objects": {"analogInput": {"cov": False}, "analogInput:3": {"cov": "confirmed"}},
                    }
                ],
            }
        )
    )
    [device] = config.devices
    assert config.cov_poll_interval == 600
    assert device.cov_for("analogInput:1", config.cov) == CovMode.OFF
    assert device.cov_for("analogInput:3", config.cov) == CovMode.CONFIRMED
    assert device.cov_for("analogValue:1", config.cov) == CovMode.UNCONFIRMED


def test_config__bad_object_settings_are_reported_at_their_line(tmp_path):
    path = tmp_path / "hub.yaml"
    path.write_text(
        "integrations:\n"
        "  bacnet:\n"
        "    address: 10.77.0.1/24\n"
        "    devices:\n"
        "      - instance: 1001\n"
        "        objects:\n"
        "          analogInpt: {cov: false}\n"
        "          analogValue:2: {cov: sometimes}\n"
        "          binaryValue: {poll: 3}\n"
    )
    config = load_config(path)
    [check] = check_integration_configs(config.integrations, config.source)
    issues = [str(issue).replace(f"{tmp_path}/", "") for issue in check.issues]
    # (the hint hub.preflight adds to an unknown key lists the integration's top-level keys: not checked)
    assert [issue.partition(" (expected one of:")[0] for issue in issues] == [
        "hub.yaml:7: integrations.bacnet.devices[0].objects.analogInpt: 'analogInpt' is not an object type"
        " such as analogInput, or one object such as analogInput:1",
        "hub.yaml:8: integrations.bacnet.devices[0].objects.analogValue:2.cov: expected one of off,"
        " unconfirmed, confirmed (or true/false), got 'sometimes'",
        "hub.yaml:9: integrations.bacnet.devices[0].objects.binaryValue.poll: unknown key",
    ]
