"""Discovery operations through a real hub with the fake integrations alpha and beta (tests/fake_plugins.py).

Each fake's discover() plays only the steps a test queues, so every test decides what happens when;
tests wait on the operation's updates, never on the clock.
"""

import asyncio
import logging
from collections.abc import Mapping, Sequence

import pytest

from hub.bus import Bus
from hub.codec import operation_json
from hub.discovery import (
    DiscoveryBusy,
    DiscoveryError,
    DiscoveryFinished,
    DiscoveryOperation,
    DiscoveryProgressed,
    DiscoveryService,
    DiscoveryStarted,
    DiscoveryState,
    DiscoveryUpdated,
    IntegrationDiscovery,
    UnknownIntegration,
    UnknownOperation,
)
from hub.integration import DiscoveryProgress, DiscoveryRequest, Integration
from hub.points import PointRegistry
from tests.conftest import WAIT_S, RunningHub, StartHub, fakes_config, finished, until
from tests.fake_devices import FakeIntegration


def part(operation: DiscoveryOperation, domain: str) -> IntegrationDiscovery:
    return next(p for p in operation.integrations if p.domain == domain)


def device_ids(operation: DiscoveryOperation) -> list[str]:
    return [found.device.id for found in operation.devices]


async def test_two_integrations__progress_is_merged(fakes_hub: RunningHub):
    discovery, alpha, beta = fakes_hub.hub.discovery, fakes_hub.fake("alpha"), fakes_hub.fake("beta")
    request = DiscoveryRequest(low_instance=1, high_instance=99, addresses=("10.0.0.0/24",))

    operation_id = discovery.start(None, request)

    started = discovery.get(operation_id)
    assert (started.state, started.percent, [p.domain for p in started.integrations]) == (
        DiscoveryState.RUNNING,
        0.0,
        ["alpha", "beta"],
    )
    alpha.play(DiscoveryProgress(50.0, current="10.0.0.7"))
    halfway = await until(discovery, operation_id, lambda op: part(op, "alpha").percent == 50.0)
    assert halfway.percent == 25.0, "the mean over the integrations"
    assert halfway.current == "10.0.0.7"

    beta.play(beta.new_device("x"), DiscoveryProgress(100.0, current="10.0.0.9", message="1 found"))
    both = await until(discovery, operation_id, lambda op: part(op, "beta").percent == 100.0)
    assert both.percent == 75.0
    assert both.current == "10.0.0.9"
    assert (part(both, "beta").devices, part(both, "beta").message) == (1, "1 found")
    assert device_ids(both) == ["beta-x"], "devices are visible while the operation runs"

    alpha.play(alpha.new_device("y"), None)
    beta.play(None)
    done = await finished(discovery, operation_id)
    assert done.state == DiscoveryState.COMPLETED
    assert done.percent == 100.0
    assert done.finished_at is not None
    assert done.finished_at >= done.started_at
    assert sorted(device_ids(done)) == ["alpha-y", "beta-x"]
    assert [(p.domain, p.state, p.devices, p.error) for p in done.integrations] == [
        ("alpha", DiscoveryState.COMPLETED, 1, None),
        ("beta", DiscoveryState.COMPLETED, 1, None),
    ]
    assert alpha.requests == beta.requests == [request]
    found = next(f for f in done.devices if f.device.id == "alpha-y")
    assert [p.id for p in found.points] == ["alpha-y.p0", "alpha-y.p1", "alpha-y.setpoint", "alpha-y.enable"]


async def test_one_integration_fails__the_other_completes(fakes_hub: RunningHub, caplog):
    discovery, alpha, beta = fakes_hub.hub.discovery, fakes_hub.fake("alpha"), fakes_hub.fake("beta")
    alpha.play(alpha.new_device("a"), ConnectionError("network unreachable"))

    operation_id = discovery.start(["alpha", "beta"], DiscoveryRequest())
    failed = await until(discovery, operation_id, lambda op: part(op, "alpha").state == DiscoveryState.FAILED)
    assert failed.state == DiscoveryState.RUNNING, "beta is still discovering"
    assert part(failed, "alpha").error == "ConnectionError: network unreachable"
    beta.play(beta.new_device("b"), None)
    done = await finished(discovery, operation_id)

    assert done.state == DiscoveryState.COMPLETED
    assert part(done, "beta").state == DiscoveryState.COMPLETED
    assert sorted(device_ids(done)) == ["alpha-a", "beta-b"], "what alpha found before failing is kept"
    assert done.percent == 100.0, "a failed integration is done"
    warnings = [
        r.getMessage() for r in caplog.records if r.name == "hub.discovery" and r.levelno >= logging.WARNING
    ]
    assert warnings == [f"discovery {operation_id}: alpha failed: ConnectionError: network unreachable"]


async def test_every_integration_fails__the_operation_failed(fakes_hub: RunningHub):
    discovery = fakes_hub.hub.discovery
    fakes_hub.fake("alpha").play(OSError("no interface"))
    fakes_hub.fake("beta").play(RuntimeError("bug"))

    done = await finished(discovery, discovery.start(None, DiscoveryRequest()))

    assert done.state == DiscoveryState.FAILED
    assert [p.error for p in done.integrations] == ["OSError: no interface", "RuntimeError: bug"]


async def test_cancel__keeps_what_was_found_and_frees_the_integrations(fakes_hub: RunningHub):
    discovery, alpha, beta = fakes_hub.hub.discovery, fakes_hub.fake("alpha"), fakes_hub.fake("beta")
    alpha.play(alpha.new_device("a"), DiscoveryProgress(40.0, current="10.0.0.40"))
    operation_id = discovery.start(None, DiscoveryRequest())
    await until(discovery, operation_id, lambda op: part(op, "alpha").percent == 40.0)

    cancelled = await discovery.cancel(operation_id)

    assert cancelled.state == DiscoveryState.CANCELLED
    assert device_ids(cancelled) == ["alpha-a"]
    assert [p.state for p in cancelled.integrations] == [DiscoveryState.CANCELLED] * 2
    assert cancelled.percent == 20.0, "progress stays where it was"
    assert alpha.discovery_cancelled.is_set()
    assert beta.discovery_cancelled.is_set()
    assert discovery.get(operation_id) == cancelled
    assert await discovery.cancel(operation_id) == cancelled, "cancelling an ended operation changes nothing"
    beta.play(None)
    again = await finished(discovery, discovery.start(["beta"], DiscoveryRequest()))
    assert again.state == DiscoveryState.COMPLETED


async def test_cancel__right_after_start(fakes_hub: RunningHub):
    discovery = fakes_hub.hub.discovery

    cancelled = await discovery.cancel(discovery.start(None, DiscoveryRequest()))

    assert cancelled.state == DiscoveryState.CANCELLED
    assert [p.state for p in cancelled.integrations] == [DiscoveryState.CANCELLED] * 2
    fakes_hub.fake("alpha").play(None)
    fakes_hub.fake("beta").play(None)
    again = await finished(discovery, discovery.start(None, DiscoveryRequest()))
    assert again.state == DiscoveryState.COMPLETED, "both integrations are free again"


async def test_timeout__ends_with_partial_results(fakes_hub: RunningHub):
    discovery, alpha, beta = fakes_hub.hub.discovery, fakes_hub.fake("alpha"), fakes_hub.fake("beta")
    # Queued before the start: both fakes play these at once, then alpha waits forever.
    alpha.play(alpha.new_device("a"), DiscoveryProgress(30.0))
    beta.play(beta.new_device("b"), None)

    done = await finished(discovery, discovery.start(None, DiscoveryRequest(timeout=0.05)))

    assert done.state == DiscoveryState.TIMED_OUT
    assert sorted(device_ids(done)) == ["alpha-a", "beta-b"]
    assert [(p.domain, p.state) for p in done.integrations] == [
        ("alpha", DiscoveryState.TIMED_OUT),
        ("beta", DiscoveryState.COMPLETED),
    ]
    assert alpha.discovery_cancelled.is_set()
    assert done.percent == 65.0


async def test_start__refuses_unknown_and_busy_integrations(fakes_hub: RunningHub):
    discovery, alpha, beta = fakes_hub.hub.discovery, fakes_hub.fake("alpha"), fakes_hub.fake("beta")

    with pytest.raises(UnknownIntegration, match=r"not a loaded integration: 'nope' \(loaded: alpha, beta\)"):
        discovery.start(["alpha", "nope"], DiscoveryRequest())
    first = discovery.start(["alpha", "beta"], DiscoveryRequest())
    with pytest.raises(DiscoveryBusy, match=f"already discovering: 'alpha' \\(operation {first}\\)"):
        discovery.start(["alpha"], DiscoveryRequest())
    beta.play(None)
    await until(discovery, first, lambda op: part(op, "beta").state == DiscoveryState.COMPLETED)
    second = discovery.start(["beta"], DiscoveryRequest())  # beta is free while alpha still runs
    assert [op.id for op in discovery.operations()] == [second, first], "newest first"
    with pytest.raises(UnknownOperation, match="no discovery operation 'nope'"):
        discovery.get("nope")
    alpha.play(None)
    beta.play(None)
    assert (await finished(discovery, first)).state == DiscoveryState.COMPLETED
    assert (await finished(discovery, second)).state == DiscoveryState.COMPLETED


async def test_bus_events__started_progressed_finished(fakes_hub: RunningHub):
    discovery, alpha = fakes_hub.hub.discovery, fakes_hub.fake("alpha")
    events: list[DiscoveryUpdated] = []
    ended = asyncio.Event()

    def record(event: DiscoveryUpdated) -> None:
        events.append(event)
        if isinstance(event, DiscoveryFinished):
            ended.set()

    fakes_hub.hub.bus.subscribe(DiscoveryUpdated, record)
    alpha.play(DiscoveryProgress(50.0), alpha.new_device("a"), None)
    operation_id = discovery.start(["alpha"], DiscoveryRequest())
    async with asyncio.timeout(WAIT_S):
        await ended.wait()

    assert [type(event) for event in events] == [
        DiscoveryStarted,
        DiscoveryProgressed,  # 50 %
        DiscoveryProgressed,  # the device
        DiscoveryProgressed,  # alpha completed
        DiscoveryFinished,
    ]
    assert {event.operation.id for event in events} == {operation_id}
    assert [event.operation.percent for event in events] == [0.0, 50.0, 50.0, 100.0, 100.0]
    assert events[-1].operation == discovery.get(operation_id)
    assert events[-1].operation.state == DiscoveryState.COMPLETED


async def test_results_survive_a_restart(start_hub: StartHub, fake_plugins, tmp_path):
    config = fakes_config(tmp_path)
    first = await start_hub(config)
    alpha = first.fake("alpha")
    alpha.play(alpha.new_device("a"), None)
    done = await finished(first.hub.discovery, first.hub.discovery.start(["alpha"], DiscoveryRequest()))
    alpha.play(alpha.new_device("b"))  # then waits: the hub stops while this one runs
    running_id = first.hub.discovery.start(["alpha"], DiscoveryRequest())
    await until(first.hub.discovery, running_id, lambda op: bool(op.devices))
    await first.server.close()

    second = await start_hub(config)

    kept = second.hub.discovery.operations()
    assert [op.id for op in kept] == [running_id, done.id]
    assert operation_json(kept[1]) == operation_json(done)
    assert kept[0].state == DiscoveryState.CANCELLED, "stopping the hub cancels and stores a running one"
    assert device_ids(kept[0]) == ["alpha-b"]
    assert kept[1].devices[0].points == done.devices[0].points


async def test_a_corrupt_results_file_is_logged_and_ignored(
    start_hub: StartHub, fake_plugins, tmp_path, caplog
):
    config = fakes_config(tmp_path)
    config.data_dir.mkdir(parents=True)
    path = config.data_dir / "discovery.json"
    path.write_text('{"format": 1, "operations": [{"operation_id": "x"')

    running = await start_hub(config)

    assert running.hub.discovery.operations() == []
    errors = [r.getMessage() for r in caplog.records if r.name == "hub.discovery_store"]
    assert len(errors) == 1
    assert errors[0].startswith(f"ignoring {path}, it is not a discovery results file this hub understands")
    stored = asyncio.Event()
    running.hub.bus.subscribe(DiscoveryFinished, lambda event: stored.set())  # published once stored
    running.fake("alpha").play(None)
    operation_id = running.hub.discovery.start(["alpha"], DiscoveryRequest())
    async with asyncio.timeout(WAIT_S):
        await stored.wait()
    assert [op.id for op in await running.hub.store.discovery.load()] == [operation_id], "stored in SQLite"
    assert path.read_text() == '{"format": 1, "operations": [{"operation_id": "x"', (
        "the old file is left alone"
    )


# -- the service on its own, with another store ---------------------------------------------------


class MemoryStore:
    """A DiscoveryStore in memory: the store interface is all the service relies on."""

    def __init__(self, operations: Sequence[DiscoveryOperation] = ()) -> None:
        self.operations = list(operations)
        self.saves = 0

    async def load(self) -> list[DiscoveryOperation]:
        return list(self.operations)

    async def save(self, operations: Sequence[DiscoveryOperation]) -> None:
        self.operations = list(operations)
        self.saves += 1


def service_with(integrations: Mapping[str, Integration], store: MemoryStore, keep: int) -> DiscoveryService:
    return DiscoveryService(lambda: integrations, Bus(), store, keep=keep)


async def test_service__keeps_the_last_operations_only():
    fake = FakeIntegration(PointRegistry(Bus()), "fake")  # discovers its (empty) table at once
    store = MemoryStore()
    service = service_with({"fake": fake}, store, keep=2)

    ids = [(await finished(service, service.start(None, DiscoveryRequest()))).id for _ in range(3)]

    assert [op.id for op in service.operations()] == [ids[2], ids[1]]
    assert [op.id for op in store.operations] == [ids[1], ids[2]], "oldest first"
    restarted = service_with({"fake": fake}, store, keep=2)
    await restarted.load()
    assert [op.id for op in restarted.operations()] == [ids[2], ids[1]]
    with pytest.raises(UnknownOperation):
        restarted.get(ids[0])


async def test_service__nothing_loaded_and_after_stop():
    service = service_with({}, MemoryStore(), keep=2)
    with pytest.raises(UnknownIntegration, match="no integration is loaded"):
        service.start(None, DiscoveryRequest())
    await service.stop()
    with pytest.raises(DiscoveryError, match="stopped"):
        service.start(None, DiscoveryRequest())
