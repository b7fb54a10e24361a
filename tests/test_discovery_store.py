"""The discovery results file: a faithful round trip, atomic replacement, and unusable files ignored."""

import logging

import pytest

from hub.discovery import DiscoveryOperation, DiscoveryState, IntegrationDiscovery
from hub.discovery_store import JsonDiscoveryStore
from hub.integration import DiscoveredDevice, DiscoveryRequest
from hub.points import Device, Limits, Point, PointKind


def operation(operation_id: str) -> DiscoveryOperation:
    """A finished operation using every field the file must keep."""
    device = Device("12345", "AHU controller", "bacnet", "192.168.1.20", "Acme", "X1", poll_interval=2.5)
    points = (
        Point("12345.analogValue.1", "12345", "SAT setpoint", PointKind.ANALOG, "°C", True, Limits(10, 30),
              poll_interval=10.0, cov_increment=0.5, min_write_interval=1.0, address="analogValue:1"),
        Point("12345.multiStateValue.2", "12345", "Mode", PointKind.MULTISTATE, writable=True,
              limits=Limits(states=(1, 2, 3))),
    )  # fmt: skip
    return DiscoveryOperation(
        operation_id,
        DiscoveryRequest(1000, 20000, ("192.168.1.0/24",), 12.5),
        started_at=1_700_000_000.25,
        integrations=(
            IntegrationDiscovery("bacnet", DiscoveryState.TIMED_OUT, 62.5, "192.168.1.30", "scanning", 1),
            IntegrationDiscovery("modbus", DiscoveryState.FAILED, 100.0, error="OSError: no route"),
        ),
        state=DiscoveryState.TIMED_OUT,
        finished_at=1_700_000_012.75,
        current="192.168.1.30",
        devices=(DiscoveredDevice(device, points),),
    )


async def test_save_then_load__round_trip(tmp_path):
    store = JsonDiscoveryStore(tmp_path / "discovery.json")
    saved = [operation("first"), operation("second")]

    await store.save(saved)

    assert await JsonDiscoveryStore(tmp_path / "discovery.json").load() == saved
    assert [p.name for p in tmp_path.iterdir()] == ["discovery.json"], "no temporary file is left behind"


async def test_save__replaces_the_content(tmp_path):
    store = JsonDiscoveryStore(tmp_path / "discovery.json")
    await store.save([operation("first")])
    await store.save([operation("second")])
    assert [op.id for op in await store.load()] == ["second"]


async def test_load__no_file_yet(tmp_path, caplog):
    assert await JsonDiscoveryStore(tmp_path / "discovery.json").load() == []
    assert not caplog.records


@pytest.mark.parametrize(
    ("content", "error"),
    [
        pytest.param(b'{"format": 1, "operations": [', "JSONDecodeError", id="truncated"),
        pytest.param(b"\xff\xfe", "'utf-8' codec can't decode", id="not_text"),
        pytest.param(b'{"format": 2, "operations": []}', "ValueError: unknown format 2", id="newer_format"),
        pytest.param(b"[1, 2]", "TypeError", id="not_an_object"),
        pytest.param(
            b'{"format": 1, "operations": [{"operation_id": "x"}]}', "KeyError: 'request'", id="field"
        ),
        pytest.param(
            b'{"format": 1, "operations": [{"operation_id": "x", "request": {"low_instance": "a"}}]}',
            "ValueError",
            id="bad_value",
        ),
    ],
)
async def test_load__unusable_file_is_logged_and_ignored(tmp_path, caplog, content, error):
    path = tmp_path / "discovery.json"
    path.write_bytes(content)

    assert await JsonDiscoveryStore(path).load() == []

    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert str(path) in record.getMessage()
    assert error in record.getMessage()
