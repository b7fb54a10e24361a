"""MonitoringService on a real SQLite store: add (all or some points), refusals, failures, remove."""

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.bus import Bus
from hub.config import StoreConfig
from hub.discovery import DiscoveryOperation
from hub.integration import DiscoveredDevice, DiscoveryRequest, Integration
from hub.monitoring import (
    BadPoints,
    MonitoringFailed,
    MonitoringService,
    NotFound,
    NotMonitorable,
    NotMonitored,
    find_discovered,
)
from hub.monitoring_store import MonitoredStore
from hub.points import Device, PointRegistry
from hub.store import Store
from hub.supervisor import Supervisor
from tests.fake_devices import FakeIntegration
from tests.fake_plugins import points

T0 = 1_767_225_600.0


class Monitorable(FakeIntegration):
    """A FakeIntegration that can also poll devices users add (the MonitoringIntegration protocol)."""

    def __init__(self, registry: PointRegistry) -> None:
        super().__init__(registry, "lab")
        self.refuse: str | None = None
        self.fail: Exception | None = None
        self.unmonitored: list[str] = []

    def monitor_problem(self, found: DiscoveredDevice) -> str | None:
        return self.refuse

    async def monitor(self, found: DiscoveredDevice) -> None:
        self.add_device(found.device, found.points)
        if self.fail is not None:
            raise self.fail

    async def unmonitor(self, device_id: str) -> None:
        self.unmonitored.append(device_id)


def found(name: str) -> DiscoveredDevice:
    device_id = f"lab-{name}"
    return DiscoveredDevice(
        Device(device_id, f"found {name}", "lab", address="10.0.0.9"), tuple(points(device_id))
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = Store(StoreConfig(), tmp_path / "hub.db", Bus(), Supervisor())
    await opened.start()
    yield opened
    await opened.stop()


def service(store: Store, integration: Integration | None) -> tuple[MonitoringService, PointRegistry]:
    registry = integration.registry if isinstance(integration, FakeIntegration) else PointRegistry(Bus())
    integrations = {"lab": integration} if integration is not None else {}
    return MonitoringService(MonitoredStore(store), integrations.get, registry, lambda: T0), registry


def events(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT kind, subject, json_extract(data, '$.actor') FROM events ORDER BY id"
        ).fetchall()


async def test_add__polls_the_chosen_points_and_is_stored_with_its_event(store: Store, tmp_path: Path):
    integration = Monitorable(PointRegistry(Bus()))
    monitoring, registry = service(store, integration)
    chosen = ["lab-a.setpoint", "lab-a.p1"]
    added = await monitoring.add(found("a"), chosen, "op-1", "otto")
    assert (added.all_points, added.added_by, added.added_at, added.operation_id) == (
        False,
        "otto",
        T0,
        "op-1",
    )
    assert sorted(p.id for p in registry.points("lab-a")) == sorted(chosen)
    await monitoring.add(found("b"), None, "op-1", "ada")

    reloaded, _ = service(store, None)
    await reloaded.load()
    assert [(d.id, d.all_points, len(d.found.points)) for d in reloaded.devices()] == [
        ("lab-a", False, 2),
        ("lab-b", True, 4),
    ]
    assert [p.id for p in reloaded.for_domain("lab")[0].points] == ["lab-a.p1", "lab-a.setpoint"]
    assert events(tmp_path / "hub.db") == [
        ("monitoring.added", "lab-a", "otto"),
        ("monitoring.added", "lab-b", "ada"),
    ]


@pytest.mark.parametrize(
    ("chosen", "error"),
    [
        ([], "points: choose at least one point (or leave the field out for all)"),
        (["lab-a.p1", "lab-a.nope"], "points: not points of device lab-a: 'lab-a.nope'"),
    ],
)
async def test_add__points_that_are_not_the_devices_are_refused(store: Store, chosen, error):
    monitoring, registry = service(store, Monitorable(PointRegistry(Bus())))
    with pytest.raises(BadPoints, match=error.replace("(", r"\(").replace(")", r"\)")):
        await monitoring.add(found("a"), chosen, "op-1", "otto")
    assert (monitoring.devices(), list(registry.devices())) == ([], [])


async def test_add__refusals_say_why(store: Store):
    integration = Monitorable(PointRegistry(Bus()))
    monitoring, registry = service(store, integration)
    integration.refuse = "device lab-a is in integrations.lab.devices"
    with pytest.raises(NotMonitorable, match=r"device lab-a is in integrations\.lab\.devices"):
        await monitoring.add(found("a"), None, "op-1", "otto")
    integration.refuse = None
    registry.add_device(Device("lab-c", "configured", "lab"))
    assert (
        monitoring.problem(found("c"))
        == "device lab-c is already monitored (from the lab integration's config)"
    )
    await monitoring.add(found("a"), None, "op-1", "otto")
    assert monitoring.problem(found("a")) == "device lab-a is already in monitoring (added by otto)"
    other = DiscoveredDevice(Device("x-1", "x", "other"))
    assert monitoring.problem(other) == "the other integration is not loaded"


async def test_add__an_integration_that_cannot_monitor_is_named(store: Store):
    registry = PointRegistry(Bus())
    monitoring = MonitoringService(
        MonitoredStore(store), {"lab": FakeIntegration(registry, "lab")}.get, registry
    )
    assert monitoring.problem(found("a")) == (
        "the lab integration cannot add discovered devices: add it to integrations.lab in the config"
    )


async def test_add__an_integration_that_fails_leaves_nothing_behind(store: Store, tmp_path: Path):
    integration = Monitorable(PointRegistry(Bus()))
    monitoring, registry = service(store, integration)
    integration.fail = RuntimeError("socket closed")
    with pytest.raises(MonitoringFailed, match="the lab integration could not add it: socket closed"):
        await monitoring.add(found("a"), None, "op-1", "otto")
    assert (monitoring.devices(), list(registry.devices()), events(tmp_path / "hub.db")) == ([], [], [])


async def test_remove__forgets_the_device_its_points_and_the_entry(store: Store, tmp_path: Path):
    integration = Monitorable(PointRegistry(Bus()))
    monitoring, registry = service(store, integration)
    await monitoring.add(found("a"), None, "op-1", "otto")
    removed = await monitoring.remove("lab-a", "ada")
    assert (removed.id, integration.unmonitored, list(registry.points("lab-a"))) == ("lab-a", ["lab-a"], [])
    with pytest.raises(NotMonitored, match="device lab-a is not in monitoring"):
        await monitoring.remove("lab-a", "ada")
    registry.add_device(Device("lab-c", "configured", "lab"))
    with pytest.raises(NotMonitored, match="device lab-c is in the config, not added from discovery"):
        await monitoring.remove("lab-c", "ada")
    reloaded, _ = service(store, None)
    await reloaded.load()
    assert reloaded.devices() == []
    assert events(tmp_path / "hub.db")[-1] == ("monitoring.removed", "lab-a", "ada")


def test_find_discovered__the_newest_operation_or_the_named_one():
    older = DiscoveryOperation("old", DiscoveryRequest(), T0, (), devices=(found("a"),))
    newer = DiscoveryOperation("new", DiscoveryRequest(), T0 + 1, (), devices=(found("a"), found("b")))
    assert find_discovered([newer, older], "lab-a") == (found("a"), "new")
    assert find_discovered([newer, older], "lab-a", "old") == (found("a"), "old")
    with pytest.raises(NotFound, match="device 'lab-b' is not in discovery operation old: scan for it first"):
        find_discovered([newer, older], "lab-b", "old")
    with pytest.raises(NotFound, match="device 'lab-z' is not in any kept discovery result"):
        find_discovered([newer, older], "lab-z")
