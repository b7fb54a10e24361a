"""The flows' clock: wall time on the event loop when live, a manual one in tests and in replay."""

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol

from hub.flows.node import Timer


class Clock(Protocol):
    """What the engine asks of time: now, and a callback at a given UTC epoch."""

    def now(self) -> float:
        """UTC epoch seconds."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` at UTC epoch `when` (at once when that has passed)."""
        ...


class LoopClock:
    """Wall-clock time; callbacks on the running asyncio loop."""

    def now(self) -> float:
        return time.time()

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(max(0.0, when - time.time()), callback)


class _ManualTimer:
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """Time moves only when told to; due callbacks run in time order as it passes them."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._queue: list[tuple[float, int, _ManualTimer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        timer = _ManualTimer(callback)
        heapq.heappush(self._queue, (max(when, self._now), next(self._seq), timer))
        return timer

    def advance(self, seconds: float) -> None:
        """Move `seconds` forward, running every callback due on the way."""
        self.advance_to(self._now + seconds)

    def advance_to(self, when: float) -> None:
        """Move to `when` (never backwards), running every callback due by then, in order."""
        while self._queue and self._queue[0][0] <= when:
            due, _, timer = heapq.heappop(self._queue)
            self._now = max(self._now, due)
            if not timer.cancelled:
                timer.callback()
        self._now = max(self._now, when)

    @property
    def pending(self) -> int:
        """Callbacks still waiting (cancelled ones included until their time passes)."""
        return sum(1 for _, _, timer in self._queue if not timer.cancelled)
