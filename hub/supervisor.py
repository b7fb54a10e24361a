"""Owned, supervised background tasks: a crash is logged, counted and restarted with backoff."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hub.health import ComponentHealth, HealthStatus

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Restart delays: doubling from `initial` up to `maximum`; reset after `stable` seconds of running."""

    initial: float = 1.0
    maximum: float = 60.0
    stable: float = 60.0
    # A task that crashed this many times in a row marks the hub degraded until it runs stably again.
    degraded_after: int = 3


DEFAULT_BACKOFF = Backoff()


@dataclass
class TaskState:
    """What health shows for one supervised task."""

    name: str
    restarts: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    running: bool = False
    started_at: float = 0.0

    def failing(self, backoff: Backoff, now: float) -> bool:
        """Crashed repeatedly and has not yet run stably since."""
        recovered = self.running and now - self.started_at >= backoff.stable
        return self.consecutive_failures >= backoff.degraded_after and not recovered


class Supervisor:
    """Runs long-lived coroutines for the hub and keeps them alive until stop()."""

    def __init__(self, backoff: Backoff = DEFAULT_BACKOFF) -> None:
        self._backoff = backoff
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._states: dict[str, TaskState] = {}

    def spawn(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        """Run `factory()` now and again whenever it raises; returning normally ends it."""
        if name in self._tasks and not self._tasks[name].done():
            raise ValueError(f"a task named {name!r} is already running")
        state = self._states.setdefault(name, TaskState(name))
        self._tasks[name] = asyncio.create_task(self._run(state, factory), name=name)

    async def _run(self, state: TaskState, factory: Callable[[], Awaitable[None]]) -> None:
        delay = self._backoff.initial
        while True:
            started = state.started_at = time.monotonic()
            state.running = True
            try:
                await factory()
            except asyncio.CancelledError:
                state.running = False
                raise
            except Exception as err:
                state.running = False
                if time.monotonic() - started >= self._backoff.stable:
                    delay = self._backoff.initial
                    state.consecutive_failures = 0
                state.restarts += 1
                state.consecutive_failures += 1
                state.last_error = f"{type(err).__name__}: {err}"
                _LOGGER.exception("task %s crashed (restart %d in %.1fs)", state.name, state.restarts, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff.maximum)
            else:
                state.running = False
                return

    async def stop(self) -> None:
        """Cancel every task and wait for them to finish."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def stop_task(self, name: str) -> None:
        """Cancel one task, wait for it, and forget it (its owner is unloading); unknown names are ignored."""
        task = self._tasks.pop(name, None)
        self._states.pop(name, None)
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    def health(self) -> ComponentHealth:
        """Degraded while any task keeps crashing."""
        now = time.monotonic()
        failing = [s.name for s in self._states.values() if s.failing(self._backoff, now)]
        detail = {
            "tasks": {
                s.name: {"running": s.running, "restarts": s.restarts, "last_error": s.last_error}
                for s in self._states.values()
            },
            "failing": failing,
        }
        return ComponentHealth(HealthStatus.DEGRADED if failing else HealthStatus.OK, detail)
