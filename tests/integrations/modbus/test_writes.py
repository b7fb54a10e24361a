"""Every data type and word/byte order round-trips through the simulator; writes take the one write path."""

import dataclasses
import itertools

import pytest
import yaml
from pymodbus.client import AsyncModbusTcpClient

from hub.commands import WriteOutcome, WriteRequest
from hub.integration import WriteError
from hub.loader import IntegrationState
from hub.points import Quality
from tests.conftest import StartHub, make_config

ORDERS = list(itertools.product(("big", "little"), ("big", "little")))
# (type, extra keys, value served, value written)
TYPES = [
    ("int16", "", -1234, 4321),
    ("uint16", "", 54321, 7),
    ("int32", "", -123456789, 2_000_000_000),
    ("uint32", "", 4_000_000_000, 12),
    ("int64", "", -(2**62) - 5, 2**40 + 3),
    ("float32", "", 123.456, -0.5),
    ("float64", "", 2.718281828459045, 1e-300),
    ("string", ", length: 4", "AB-12", "Zz"),
    ("uint16", ", scale: 0.1, offset: -40", 25.5, -12.3),
    ("bit", ", bit: 9", True, False),
]


def profile_yaml() -> str:
    """One holding point per type and order combination, 8 registers apart."""
    lines = ["points:"]
    for index, ((kind, extra, served, _), (word, byte)) in enumerate(itertools.product(TYPES, ORDERS)):
        shown = f"'{served}'" if isinstance(served, str) else str(served).lower()
        lines.append(
            f"  - {{name: {kind}_{index}, address: {index * 8}, type: {kind}{extra}, word_order: {word},"
            f" byte_order: {byte}, writable: true, simulate: {shown}}}"
        )
    return "\n".join(lines) + "\n"


def written(index: int) -> object:
    return TYPES[index // len(ORDERS)][3]


async def test_every_type_and_order__reads_and_writes_round_trip(start_sim, make_integration, tmp_path):
    path = tmp_path / "all_types.yaml"
    path.write_text(profile_yaml())
    sim = await start_sim("--profile", str(path))
    profile = {"points": yaml.safe_load(path.read_text())["points"]}
    built = await make_integration(
        {
            "profiles": {"all": profile},
            "devices": {"dev": {"host": "127.0.0.1", "port": sim.port, "profile": "all"}},
        }
    )
    points = built.points("dev")
    samples = await built.integration.read(points)
    assert {s.quality for s in samples.values()} == {Quality.GOOD}
    assert [samples[p.id].value for p in points] == [
        served for (_, _, served, _), _ in itertools.product(TYPES, ORDERS)
    ]

    for index, point in enumerate(points):
        await built.integration.write(point, written(index), 8)
    again = await built.integration.read(points)
    assert [again[p.id].value for p in points] == [written(i) for i in range(len(points))]


async def test_word_and_byte_order__the_registers_on_the_wire(start_sim):
    """What the simulator serves for float32 123.456 (0x42F6E979) in each order, read with a raw client."""
    sim = await start_sim("--profile", "energy_meter", "--word-order", "little", "--byte-order", "little")
    client = AsyncModbusTcpClient("127.0.0.1", port=sim.port, timeout=5, retries=0)
    await client.connect()
    try:
        response = await client.read_input_registers(70, count=2, device_id=1)  # frequency, 50.0 = 0x42480000
    finally:
        client.close()
    assert response.registers == [0x0000, 0x4842]


async def test_write__refusals_say_why(start_sim, make_integration):
    sim = await start_sim("--profile", "vfd")
    built = await make_integration(
        {
            "devices": {
                "vfd": {
                    "host": "127.0.0.1",
                    "port": sim.port,
                    "profile": "vfd",
                    "points": [{"name": "ghost", "address": 300, "writable": True}],
                }
            }
        }
    )
    point = {p.name: p for p in built.points("vfd")}
    with pytest.raises(WriteError, match=r"vfd.ghost: exception 2 \(illegal data address\)"):
        await built.integration.write(point["ghost"], 1, 8)
    with pytest.raises(WriteError, match=r"vfd.speed_setpoint: 7000 does not fit in uint16 \(raw 70000"):
        await built.integration.write(point["speed_setpoint"], 7000, 8)
    with pytest.raises(WriteError, match="nothing to relinquish"):
        await built.integration.write(point["speed_setpoint"], None, 8)


async def test_hub__writes_go_through_the_one_write_path_and_are_read_back(
    start_sim, start_hub: StartHub, tmp_path
):
    sim = await start_sim("--profile", "vfd")
    modbus = {
        "devices": {
            "ahu-fan": {"host": "127.0.0.1", "port": sim.port, "profile": "vfd", "poll_interval": 0.2}
        }
    }
    running = await start_hub(dataclasses.replace(make_config(tmp_path), integrations={"modbus": modbus}))
    hub = running.hub
    [status] = [s for s in hub.integrations.statuses() if s.domain == "modbus"]
    assert status.state == IntegrationState.LOADED
    for point_id, value in (("ahu-fan.speed_setpoint", 38.5), ("ahu-fan.run_command", True)):
        result = await hub.commands.write(WriteRequest(point_id, value))
        assert (result.outcome, result.verified, result.reason) == (WriteOutcome.WRITTEN, True, None)
        assert hub.points.latest(point_id).value == value
    refused = await hub.commands.write(WriteRequest("ahu-fan.speed_setpoint", 75))
    assert (refused.outcome, refused.reason) == (WriteOutcome.REFUSED, "75 is above the maximum 60.0")
