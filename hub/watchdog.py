"""Event-loop watchdog: how late the loop runs, and the stack of whatever blocks it.

A ticker task measures how late each short sleep wakes up (the loop lag every other task feels).
A daemon thread watches the ticker's heartbeat: when the loop has not come back for longer than the
threshold, the thread captures the loop thread's stack *while it is still blocked* and logs it once
per stall. That names the blocking code itself, where asyncio's debug mode (slow_callback_duration)
can only name the callback after it returned and costs every callback its bookkeeping.
"""

import asyncio
import logging
import statistics
import sys
import threading
import time
import traceback
from collections import deque

from hub.health import ComponentHealth, HealthStatus

_LOGGER = logging.getLogger(__name__)

TICK_S = 0.05  # how often the loop's lag is sampled
WINDOW = 1200  # lag samples kept for the percentiles (one minute at TICK_S)


class LoopWatchdog:
    """Samples loop lag and reports stalls longer than `threshold` seconds with the blocking stack."""

    def __init__(self, threshold: float = 0.25, tick: float = TICK_S) -> None:
        self.threshold = threshold
        self._tick = tick
        self._lags: deque[float] = deque(maxlen=WINDOW)
        self._heartbeat = time.monotonic()
        self._loop_thread: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stalls = 0  # stalls longer than the threshold since start
        self.max_lag = 0.0

    async def run(self) -> None:
        """Sample the lag until cancelled; the stall detector thread runs alongside."""
        self._loop_thread = threading.get_ident()
        self._heartbeat = time.monotonic()
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="loop-watchdog", daemon=True)
        self._thread.start()
        try:
            while True:
                before = time.monotonic()
                await asyncio.sleep(self._tick)
                now = time.monotonic()
                lag = max(0.0, now - before - self._tick)
                self._lags.append(lag)
                self.max_lag = max(self.max_lag, lag)
                self._heartbeat = now
        finally:
            self._stop.set()

    def _watch(self) -> None:
        """In the watchdog thread: log the loop thread's stack once per stall."""
        reported = None  # the heartbeat of the stall already reported
        while not self._stop.wait(self.threshold / 4):
            beat = self._heartbeat
            blocked_for = time.monotonic() - beat - self._tick
            if blocked_for <= self.threshold or beat == reported:
                continue
            reported = beat
            self.stalls += 1
            frame = sys._current_frames().get(self._loop_thread or 0)
            stack = "".join(traceback.format_stack(frame)) if frame is not None else "(stack unavailable)\n"
            _LOGGER.warning(
                "the event loop has been blocked for %.0f ms (threshold %.0f ms); it is running:\n%s",
                blocked_for * 1000,
                self.threshold * 1000,
                stack.rstrip(),
            )

    def lag_percentile(self, percent: float) -> float:
        """The loop lag (seconds) at `percent` over the recent window; 0 before any sample."""
        if len(self._lags) < 2:
            return self._lags[0] if self._lags else 0.0
        return statistics.quantiles(self._lags, n=100, method="inclusive")[round(percent) - 1]

    def health(self) -> ComponentHealth:
        """Degraded while the recent p99 lag is above the threshold."""
        p99 = self.lag_percentile(99)
        status = HealthStatus.DEGRADED if p99 > self.threshold else HealthStatus.OK
        return ComponentHealth(
            status,
            {
                "lag_p50_ms": round(self.lag_percentile(50) * 1000, 2),
                "lag_p99_ms": round(p99 * 1000, 2),
                "lag_max_ms": round(self.max_lag * 1000, 2),
                "stalls": self.stalls,
                "threshold_ms": round(self.threshold * 1000),
            },
        )
