"""`bms-hub simulate bacnet --scenario demo`: the simulator integration's site served over BACnet."""

import pytest

from hub.integration import WriteError


async def test_scenario__each_site_device_is_a_bacnet_device_and_writes_reach_the_model(
    make_integration, start_device
):
    fleet = await start_device(2100, "--scenario", "demo", count=6)  # the demo floor: AHU, 4 VAVs, meter
    assert [m.instance for m in fleet.members] == list(range(2100, 2106))
    built = await make_integration({}, fleet.members[:1])
    await built.device_added("2100")
    assert built.registry.device("2100").name == "Air handling unit 1"
    names = {p.name: p for p in built.registry.points("2100")}
    setpoint, supply = names["supply_air_setpoint"], names["supply_air_temp"]
    assert (setpoint.id, setpoint.writable, setpoint.units) == ("2100.analogValue.1", True, "degreesCelsius")
    assert (supply.address, supply.writable) == ("analogInput:4", False)
    assert names["fan_command"].id == "2100.binaryValue.1"
    await built.integration.write(setpoint, 18.0, 8)
    assert (await built.integration.read([setpoint]))[setpoint.id].value == 18.0
    with pytest.raises(WriteError, match=r"^value-out-of-range$"):  # the model's limits: 10..30 °C
        await built.integration.write(setpoint, 35.0, 8)
    samples = await built.integration.read(list(names.values()))
    assert 0 < samples[supply.id].value < 40
    assert samples[names["fan_status"].id].value in (True, False)
