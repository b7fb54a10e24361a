"""Device discovery: run integrations' `discover()` as one tracked operation, and keep what it found.

The REST API, the MQTT `get_config` command and the UI all drive the one DiscoveryService: `start`
an operation over some loaded integrations, follow it (bus events or `updates()`), `cancel` it.
Each integration runs in its own task; one raising does not end the others. An operation ends
completed, cancelled, timed_out (what was found so far is kept) or failed (every integration
raised). Finished operations go to a DiscoveryStore so a restart does not need a rescan.
"""

import asyncio
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from hub.bus import Bus
from hub.integration import DiscoveredDevice, DiscoveryEvent, DiscoveryProgress, DiscoveryRequest, Integration

_LOGGER = logging.getLogger(__name__)

DEFAULT_KEEP = 20  # finished operations kept in memory and in the store


class DiscoveryState(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    FAILED = "failed"


@dataclass(frozen=True)
class IntegrationDiscovery:
    """One integration's part of an operation; `error` says why it failed."""

    domain: str
    state: DiscoveryState = DiscoveryState.RUNNING
    percent: float = 0.0
    current: str = ""
    message: str = ""
    devices: int = 0
    error: str | None = None


@dataclass(frozen=True)
class DiscoveryOperation:
    """A snapshot of one discovery run: what was asked, how far it got and what it found."""

    id: str
    request: DiscoveryRequest
    started_at: float  # UTC epoch seconds
    integrations: tuple[IntegrationDiscovery, ...]
    state: DiscoveryState = DiscoveryState.RUNNING
    finished_at: float | None = None
    current: str = ""  # the device or address the latest progress report named
    devices: tuple[DiscoveredDevice, ...] = ()

    @property
    def percent(self) -> float:
        """Overall progress: the mean over the integrations."""
        if not self.integrations:
            return 100.0
        return sum(part.percent for part in self.integrations) / len(self.integrations)

    @property
    def finished(self) -> bool:
        return self.state != DiscoveryState.RUNNING


@dataclass(frozen=True)
class DiscoveryUpdated:
    """Published on the bus for every change of an operation; the subclasses say which change."""

    operation: DiscoveryOperation


@dataclass(frozen=True)
class DiscoveryStarted(DiscoveryUpdated):
    """An operation started."""


@dataclass(frozen=True)
class DiscoveryProgressed(DiscoveryUpdated):
    """An integration reported progress, a device, an error or its end."""


@dataclass(frozen=True)
class DiscoveryFinished(DiscoveryUpdated):
    """An operation ended (and was stored); no more updates follow."""


class DiscoveryError(Exception):
    """A discovery cannot start or be found; the message says why."""


class UnknownIntegration(DiscoveryError):
    """A requested domain is not a loaded integration."""


class DiscoveryBusy(DiscoveryError):
    """A requested integration is already discovering."""


class UnknownOperation(DiscoveryError):
    """No operation with that id is running or kept."""


class DiscoveryStore(Protocol):
    """Where finished operations survive a restart (a JSON file today, SQLite later)."""

    async def load(self) -> list[DiscoveryOperation]:
        """The stored operations, oldest first; nothing when there is no usable store yet."""
        ...

    async def save(self, operations: Sequence[DiscoveryOperation]) -> None:
        """Replace what is stored with these finished operations, oldest first."""
        ...


class _Run:
    """The mutable side of a running operation: its tasks and what changed last."""

    def __init__(self, operation: DiscoveryOperation) -> None:
        self.operation = operation
        self.changed = asyncio.Event()
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.found: dict[tuple[str, str], DiscoveredDevice] = {}
        self.cancelled = False
        self.runner: asyncio.Task[None] | None = None


class DiscoveryService:
    """Starts, tracks, cancels and keeps discovery operations; one at a time per integration."""

    def __init__(
        self,
        integrations: Callable[[], Mapping[str, Integration]],
        bus: Bus,
        store: DiscoveryStore,
        *,
        keep: int = DEFAULT_KEEP,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._integrations = integrations
        self._bus = bus
        self._store = store
        self._keep = keep
        self._clock = clock
        self._operations: dict[str, DiscoveryOperation] = {}  # oldest first
        self._runs: dict[str, _Run] = {}
        self._busy: dict[str, str] = {}  # domain -> id of the operation it is discovering for
        self._stopped = False

    async def load(self) -> None:
        """Bring back the operations stored before the last restart."""
        for operation in (await self._store.load())[-self._keep :]:
            self._operations[operation.id] = operation

    def start(self, domains: Sequence[str] | None, request: DiscoveryRequest) -> str:
        """Start discovering with `domains` (None: every loaded integration); returns the operation id."""
        if self._stopped:
            raise DiscoveryError("discovery has stopped with the hub")
        loaded = self._integrations()
        chosen = list(dict.fromkeys(loaded if domains is None else domains))
        if not chosen:
            raise UnknownIntegration("no integration is loaded")
        unknown = [domain for domain in chosen if domain not in loaded]
        if unknown:
            names, known = ", ".join(map(repr, unknown)), ", ".join(loaded) or "none"
            raise UnknownIntegration(f"not a loaded integration: {names} (loaded: {known})")
        busy = [f"{domain!r} (operation {self._busy[domain]})" for domain in chosen if domain in self._busy]
        if busy:
            raise DiscoveryBusy(f"already discovering: {', '.join(busy)}")
        operation = DiscoveryOperation(
            uuid.uuid4().hex, request, self._clock(), tuple(IntegrationDiscovery(d) for d in chosen)
        )
        run = _Run(operation)
        self._runs[operation.id] = run
        self._operations[operation.id] = operation
        self._trim()
        for domain in chosen:
            self._busy[domain] = operation.id
            run.tasks[domain] = asyncio.create_task(
                self._discover(run, domain, loaded[domain]), name=f"discovery.{operation.id}.{domain}"
            )
        run.runner = asyncio.create_task(self._supervise(run), name=f"discovery.{operation.id}")
        _LOGGER.info("discovery %s started with %s", operation.id, ", ".join(chosen))
        self._bus.publish(DiscoveryStarted(operation))
        return operation.id

    def get(self, operation_id: str) -> DiscoveryOperation:
        """The latest snapshot of a running or kept operation."""
        try:
            return self._operations[operation_id]
        except KeyError:
            raise UnknownOperation(f"no discovery operation {operation_id!r}") from None

    def operations(self) -> list[DiscoveryOperation]:
        """Every running and kept operation, newest first."""
        return list(reversed(self._operations.values()))

    async def updates(self, operation_id: str) -> AsyncIterator[DiscoveryOperation]:
        """Yield the operation now and after each change until it ends; a slow reader skips to the latest."""
        last: DiscoveryOperation | None = None
        while True:
            run = self._runs.get(operation_id)
            current = self.get(operation_id)
            if current is not last:
                last = current
                yield current
                if current.finished:
                    return
            elif run is not None:
                await run.changed.wait()
                run.changed.clear()

    async def cancel(self, operation_id: str) -> DiscoveryOperation:
        """Cancel a running operation, keeping what it found; returns it once it has ended."""
        operation = self.get(operation_id)
        run = self._runs.get(operation_id)
        if run is None or run.runner is None:
            return operation
        run.cancelled = True
        for task in run.tasks.values():
            task.cancel()
        await asyncio.shield(run.runner)
        return self.get(operation_id)

    async def stop(self) -> None:
        """Cancel every running operation (each is stored as cancelled); refuse new ones."""
        self._stopped = True
        for operation_id in list(self._runs):
            await self.cancel(operation_id)

    # -- running -------------------------------------------------------------------------

    async def _discover(self, run: _Run, domain: str, integration: Integration) -> None:
        """Feed one integration's events into the operation; its exception ends only its own part."""
        try:
            async for event in integration.discover(run.operation.request):
                self._apply(run, domain, event)
        except Exception as err:
            error = f"{type(err).__name__}: {err}"
            _LOGGER.warning("discovery %s: %s failed: %s", run.operation.id, domain, error)
            self._set_part(run, domain, state=DiscoveryState.FAILED, percent=100.0, error=error)
        else:
            self._set_part(run, domain, state=DiscoveryState.COMPLETED, percent=100.0)
        finally:
            self._release(domain, run.operation.id)

    def _apply(self, run: _Run, domain: str, event: DiscoveryEvent) -> None:
        if isinstance(event, DiscoveredDevice):
            run.found[(domain, event.device.id)] = event
            found = sum(1 for key in run.found if key[0] == domain)
            self._set_part(run, domain, devices=found)
        elif isinstance(event, DiscoveryProgress):
            percent = min(100.0, max(0.0, event.percent)) if math.isfinite(event.percent) else 0.0
            self._set_part(run, domain, percent=percent, current=event.current, message=event.message)
        else:
            _LOGGER.debug("discovery %s: %s yielded %r, ignored", run.operation.id, domain, event)

    def _set_part(self, run: _Run, domain: str, **changes: object) -> None:
        parts = tuple(
            replace(part, **changes) if part.domain == domain else part  # type: ignore[arg-type]
            for part in run.operation.integrations
        )
        current = changes.get("current") or run.operation.current
        self._change(run, integrations=parts, current=current, devices=tuple(run.found.values()))
        self._bus.publish(DiscoveryProgressed(run.operation))

    def _change(self, run: _Run, **changes: object) -> None:
        run.operation = replace(run.operation, **changes)  # type: ignore[arg-type]
        self._operations[run.operation.id] = run.operation
        run.changed.set()

    async def _supervise(self, run: _Run) -> None:
        """Wait for the integrations (or the timeout, or a cancel), then end, store and announce."""
        tasks = list(run.tasks.values())
        _, pending = await asyncio.wait(tasks, timeout=run.operation.request.timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        for domain in run.tasks:  # a task cancelled before it ever ran did not release its domain
            self._release(domain, run.operation.id)
        state = self._final_state(run, timed_out=bool(pending))
        parts = tuple(
            replace(part, state=state) if part.state == DiscoveryState.RUNNING else part
            for part in run.operation.integrations
        )
        self._change(run, integrations=parts, state=state, finished_at=self._clock())
        self._trim()
        await self._save()
        operation = run.operation
        del self._runs[operation.id]
        _LOGGER.info(
            "discovery %s %s: %d devices found", operation.id, operation.state, len(operation.devices)
        )
        self._bus.publish(DiscoveryFinished(operation))

    def _release(self, domain: str, operation_id: str) -> None:
        """Let `domain` discover again (if `operation_id` still holds it)."""
        if self._busy.get(domain) == operation_id:
            del self._busy[domain]

    def _final_state(self, run: _Run, *, timed_out: bool) -> DiscoveryState:
        if run.cancelled:
            return DiscoveryState.CANCELLED
        if timed_out:
            return DiscoveryState.TIMED_OUT
        if all(part.state == DiscoveryState.FAILED for part in run.operation.integrations):
            return DiscoveryState.FAILED
        return DiscoveryState.COMPLETED

    async def _save(self) -> None:
        finished = [operation for operation in self._operations.values() if operation.finished]
        try:
            await self._store.save(finished)
        except Exception:
            _LOGGER.exception("cannot store the discovery results")

    def _trim(self) -> None:
        """Drop the oldest finished operations beyond `keep`."""
        finished = [op.id for op in self._operations.values() if op.finished]
        for operation_id in finished[: max(0, len(finished) - self._keep)]:
            del self._operations[operation_id]
