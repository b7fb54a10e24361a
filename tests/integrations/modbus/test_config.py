"""The Modbus config: profiles resolved and orders inherited; every mistake reported at its file:line."""

from pathlib import Path

import pytest
import voluptuous as vol

from hub.config import ConfigError, load_config
from hub.preflight import IntegrationState, check_integration_configs
from integrations.modbus.config import CONFIG_SCHEMA
from integrations.modbus.model import DataType, Order, Table
from integrations.modbus.profiles import built_in_profiles, load_profile

DEVICES = "integrations.modbus.devices"
M1 = f"{DEVICES}.m1.points"


def issues_of(tmp_path: Path, text: str) -> list[str]:
    """The issues `bms-hub check-config` would print for this config, with the folder cut off."""
    path = tmp_path / "hub.yaml"
    path.write_text(text)
    config = load_config(path)
    [check] = check_integration_configs(config.integrations, config.source)
    assert check.state in (None, IntegrationState.CONFIG_INVALID)
    return [str(issue).replace(f"{tmp_path}/", "") for issue in check.issues]


def test_config__a_profile_its_orders_and_the_device_override():
    config = CONFIG_SCHEMA(
        {
            "max_gap": 4,
            "profiles": {
                "pump": {
                    "word_order": "little",
                    "points": [
                        {"name": "flow", "address": 0, "type": "float32"},
                        {"name": "head", "address": 2, "type": "float32", "word_order": "big"},
                    ],
                }
            },
            "devices": {
                "p1": {"host": "10.0.0.9", "profile": "pump"},
                "p2": {
                    "host": "10.0.0.9",
                    "unit": 2,
                    "profile": "pump",
                    "byte_order": "little",
                    "word_order": "big",
                    "points": [{"name": "alarm", "address": 9, "type": "bit", "bit": 3}],
                },
            },
        }
    )
    p1, p2 = config.devices
    assert (p1.port, p1.unit, p1.timeout, p1.poll_interval, p1.max_gap) == (502, 1, 3.0, 5.0, 4)
    assert [(p.word_order, p.byte_order) for p in p1.points] == [
        (Order.LITTLE, Order.BIG),
        (Order.BIG, Order.BIG),
    ]
    assert [(p.word_order, p.byte_order) for p in p2.points] == [
        (Order.BIG, Order.LITTLE),
        (Order.BIG, Order.LITTLE),
        (Order.BIG, Order.LITTLE),
    ]
    assert (p2.points[2].type, p2.points[2].bit, p2.points[2].location) == (DataType.BIT, 3, "holding:9.3")
    assert config.profiles == ("energy_meter", "pump", "vfd")


def test_config__built_in_profiles_are_valid():
    profiles = built_in_profiles()
    assert set(profiles) == {"energy_meter", "vfd"}
    vfd = {raw["name"]: raw for raw in profiles["vfd"].points}
    assert (vfd["run_command"]["table"], vfd["run_command"]["type"]) == (Table.COIL, DataType.BOOL)


def test_config__pass_one_every_bad_key_at_its_line(tmp_path):
    assert issues_of(
        tmp_path,
        """\
integrations:
  modbus:
    devices:
      m1:
        host: 127.0.0.1
        points:
          - {name: s, address: 2000, type: string, length: 126}
          - {name: t, address: 5, type: float16}
          - {name: c, table: coil, address: 5, type: int16}
          - {name: r, table: input, address: 6, writable: true}
          - {name: b, address: 7, type: bit}
          - {name: e, address: 65535, type: float32}
          - {name: x.y, address: 8, scale: 0}
          - {name: w, address: 3000, type: string, length: 124, writable: true}
      bad name!:
        host: h
""",
    ) == [
        f"hub.yaml:7: {M1}[0].length: expected int between 1 and 125, got 126",
        f"hub.yaml:8: {M1}[1].type: expected one of int16, uint16, int32, uint32,"
        " int64, float32, float64, string, bit, bool, got 'float16'",
        f"hub.yaml:9: {M1}[2].type: expected bool (a coil holds one bit), got 'int16'",
        f"hub.yaml:10: {M1}[3].writable: input is read-only (only holding and coil are writable)",
        f"hub.yaml:11: {M1}[4].bit: required key missing",
        f"hub.yaml:12: {M1}[5].address: expected an address at most 65534 (float32 takes 2), got 65535",
        f"hub.yaml:13: {M1}[6].name: expected a name of letters, digits, '_' and '-'"
        " (at most 64, no dots), got 'x.y'",
        f"hub.yaml:13: {M1}[6].scale: expected a number other than 0, got 0",
        f"hub.yaml:14: {M1}[7].length: expected at most 123 for a writable point (one request), got 124",
        f"hub.yaml:16: {DEVICES}.bad name!: invalid name 'bad name!': use letters, digits, '_' and '-'"
        " (no dots)",
    ]


def test_config__pass_two_overlaps_names_and_profiles_at_their_line(tmp_path):
    assert issues_of(
        tmp_path,
        """\
integrations:
  modbus:
    profiles:
      pump:
        points:
          - {name: a, address: 0, type: float32}
          - {name: b, address: 1}
          - {name: bit0, address: 4, type: bit, bit: 0}
          - {name: bit1, address: 4, type: bit, bit: 1}
    devices:
      m1:
        host: 127.0.0.1
        profile: energy_meter
        points:
          - {name: extra, table: input, address: 3, type: int32}
          - {name: voltage_l1, table: input, address: 400}
          - {name: alarm_overvoltage2, address: 20, type: bit, bit: 0}
          - {name: alarm_spare, address: 20, type: bit, bit: 2}
      m2: {host: x, profile: nope}
      m3: {host: y}
""",
    ) == [
        "hub.yaml:7: integrations.modbus.profiles.pump.points[1].address: holding:1 overlaps point 'a'",
        f"hub.yaml:15: {M1}[0].address: input:3 overlaps point 'voltage_l2'",
        f"hub.yaml:16: {M1}[1].name: duplicate name 'voltage_l1'",
        f"hub.yaml:17: {M1}[2].address: holding:20.0 overlaps point 'alarm_overvoltage'",
        f"hub.yaml:19: {DEVICES}.m2.profile: unknown profile (known: energy_meter, pump, vfd)",
        "hub.yaml:20: integrations.modbus.devices.m3.host: a device needs a profile or points",
    ]


def test_load_profile__a_profile_file_with_mistakes_reported_at_its_lines(tmp_path):
    path = tmp_path / "meter.yaml"
    path.write_text(
        "points:\n  - {name: a, address: 0, type: int64}\n  - {name: b, address: 3}\n  - {name: c}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    assert [str(issue).replace(f"{tmp_path}/", "") for issue in caught.value.issues] == [
        "meter.yaml:4: points[2].address: required key missing",
    ]
    path.write_text("points:\n  - {name: a, address: 0, type: int64}\n  - {name: b, address: 3}\n")
    with pytest.raises(ConfigError, match=r"meter.yaml:3: points\[1\].address: holding:3 overlaps point 'a'"):
        load_profile(path)


def test_config__not_a_mapping():
    with pytest.raises(vol.Invalid, match="expected a mapping of name -> settings"):
        CONFIG_SCHEMA({"devices": ["m1"]})
