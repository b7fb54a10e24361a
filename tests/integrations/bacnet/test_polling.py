"""Reads from simulated devices in other processes: RPM batches, ReadProperty fallback, per-point errors."""

import dataclasses

import pytest

from hub.health import HealthStatus
from hub.integration import DeviceError, Integration, PushIntegration
from hub.points import Point, PointKind, Quality
from integrations.bacnet.network import BindError
from tests.integrations.bacnet.conftest import free_udp_port


async def test_start__registers_a_configured_device_with_its_objects(make_integration, start_device):
    device = await start_device(1001, "--analog-inputs", "3", "--analog-values", "2", "--binary-values", "1")
    built = await make_integration({}, [device])
    assert isinstance(built.integration, Integration)
    assert isinstance(built.integration, PushIntegration)
    await built.device_added("1001")
    registered = built.registry.device("1001")
    assert (registered.name, registered.vendor, registered.address) == (
        "Simulated device 1001", "BMS Hub", device.address,
    )  # fmt: skip
    points = {p.id: p for p in built.registry.points("1001")}
    assert sorted(points) == [
        "1001.analogInput.1", "1001.analogInput.2", "1001.analogInput.3",
        "1001.analogValue.1", "1001.analogValue.2", "1001.binaryValue.1",
    ]  # fmt: skip
    ai, av, bv = points["1001.analogInput.1"], points["1001.analogValue.1"], points["1001.binaryValue.1"]
    assert (ai.name, ai.units, ai.writable, ai.kind, ai.address) == (
        "AI-1", "degreesCelsius", False, PointKind.ANALOG, "analogInput:1",
    )  # fmt: skip
    assert (av.writable, bv.writable, bv.kind) == (True, True, PointKind.BINARY)
    assert built.integration.health().status == HealthStatus.OK
    await built.integration.subscribe(list(points.values()))  # cov is off unless configured
    assert built.integration.health().detail["cov_subscriptions"] == 0


async def test_read__values_and_an_unknown_object_goes_bad_alone(make_integration, start_device):
    device = await start_device(1002, "--analog-inputs", "5", "--no-drift")
    built = await make_integration({}, [device])
    await built.device_added("1002")
    points = built.points("1002")
    ghost = dataclasses.replace(points[0], id="1002.analogInput.999", address="analogInput:999")
    samples = await built.integration.read([*points, ghost])
    assert samples[ghost.id].quality == Quality.BAD
    assert samples[ghost.id].reason == "unknown-object"
    assert samples["1002.analogInput.3"].value == 23.0
    assert samples["1002.binaryValue.1"].value is False
    assert {s.quality for k, s in samples.items() if k != ghost.id} == {Quality.GOOD}


async def test_read__rpm_batches_fit_a_device_that_cannot_segment(make_integration, start_device):
    device = await start_device(
        1003, "--analog-inputs", "120", "--analog-values", "0", "--binary-values", "0",
        "--no-segmentation", "--max-apdu", "480", "--no-drift",
    )  # fmt: skip
    built = await make_integration({}, [device])
    await built.device_added("1003")
    app = built.integration.app
    requests: list[int] = []
    original = app.read_property_multiple

    async def counting(address, spec, *args, **kwargs):  # a spy on the real call, not a mock
        requests.append(len(spec) // 2)
        return await original(address, spec, *args, **kwargs)

    app.read_property_multiple = counting
    points = built.points("1003")
    samples = await built.integration.read(points)
    assert len(samples) == 120
    assert {s.quality for s in samples.values()} == {Quality.GOOD}
    assert samples["1003.analogInput.120"].value == 20.0
    per = built.integration.peers["1003"].objects_per_rpm
    assert per < 120
    assert max(requests) == per
    assert sum(requests) == 120


async def test_read__a_device_that_rejects_rpm_is_read_property_by_property(make_integration, start_device):
    device = await start_device(1004, "--analog-inputs", "4", "--no-rpm", "--no-drift")
    built = await make_integration({}, [device])
    await built.device_added("1004")
    samples = await built.integration.read(built.points("1004"))
    assert built.integration.peers["1004"].rpm is False
    assert samples["1004.analogInput.4"].value == 24.0
    assert {s.quality for s in samples.values()} == {Quality.GOOD}


async def test_start__a_busy_port_fails_with_what_to_fix(make_integration, start_device):
    device = await start_device(1007, "--analog-inputs", "1")
    with pytest.raises(BindError, match=rf"UDP port {device.port} on 127\.0\.0\.1 is already in use"):
        await make_integration({"port": device.port})


async def test_start__a_configured_device_that_is_not_there_is_waited_for(make_integration):
    port = free_udp_port()
    built = await make_integration({"devices": [{"instance": 1008, "address": f"127.0.0.1:{port}"}]})
    assert built.integration.health().status == HealthStatus.DEGRADED
    assert "1008" in built.integration.health().detail["waiting"]
    point = Point("1008.analogValue.1", "1008", "AV-1", writable=True, address="analogValue:1")
    with pytest.raises(DeviceError, match="BACnet device 1008 is not known"):
        await built.integration.write(point, 1.0, 8)
