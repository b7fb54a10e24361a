"""Writes at a priority through a simulated device's real priority array, and refusals with its reason."""

import pytest

from hub.integration import WriteError
from tests.integrations.bacnet.conftest import Built


async def setpoint_and_input(built: Built, instance: str):
    await built.device_added(instance)
    return built.registry.point(f"{instance}.analogValue.1"), built.registry.point(
        f"{instance}.analogInput.1"
    )


async def test_write__priority_8_then_relinquish_verified_on_the_device(make_integration, start_device):
    device = await start_device(1101, "--analog-inputs", "1", "--analog-values", "1", "--binary-values", "1")
    built = await make_integration({}, [device])
    setpoint, _ = await setpoint_and_input(built, "1101")
    await built.integration.write(setpoint, 42.5, 8)
    array = await built.integration.priority_array(setpoint.id)
    assert array is not None
    slots = array.slots
    assert (slots[7], array.relinquish_default) == (42.5, 21.0)
    assert [s for i, s in enumerate(slots) if i != 7] == [None] * 15
    assert (await built.integration.read([setpoint]))[setpoint.id].value == 42.5
    await built.integration.write(setpoint, 30.0, 12)  # a lower priority does not win
    assert (await built.integration.read([setpoint]))[setpoint.id].value == 42.5
    await built.integration.write(setpoint, None, 8)  # relinquish: priority 12 takes over
    slots = (await built.integration.priority_array(setpoint.id)).slots
    assert (slots[7], slots[11]) == (None, 30.0)
    assert (await built.integration.read([setpoint]))[setpoint.id].value == 30.0
    await built.integration.write(setpoint, None, 12)  # all relinquished: the relinquish default
    assert (await built.integration.read([setpoint]))[setpoint.id].value == 21.0
    command = built.registry.point("1101.binaryValue.1")
    await built.integration.write(command, True, 5)
    assert (await built.integration.read([command]))[command.id].value is True
    array = await built.integration.priority_array(command.id)
    assert (array.slots[4], array.relinquish_default) == (True, False)
    sensor = built.registry.point("1101.analogInput.1")
    assert await built.integration.priority_array(sensor.id) is None  # an input: not commandable


async def test_write__refusals_carry_the_device_s_reason(make_integration, start_device):
    device = await start_device(1103, "--analog-inputs", "1", "--analog-values", "1")
    built = await make_integration({}, [device])
    setpoint, sensor = await setpoint_and_input(built, "1103")
    with pytest.raises(WriteError, match=r"^value-out-of-range$"):
        await built.integration.write(setpoint, 150.0, 8)
    with pytest.raises(WriteError, match=r"^write-access-denied$"):
        await built.integration.write(sensor, 1.0, 8)
    assert (await built.integration.read([setpoint]))[setpoint.id].value == 21.0
