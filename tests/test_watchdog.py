"""The loop watchdog names the code that blocks the event loop, while it blocks it."""

import asyncio
import logging
import threading

from hub.health import HealthStatus
from hub.watchdog import LoopWatchdog


def _block_the_loop_until(event: threading.Event, timeout: float = 10.0) -> None:
    """A badly written callback: blocks the loop (the thing the watchdog exists to catch)."""
    event.wait(timeout)


async def test_a_stall_is_logged_with_the_blocking_stack() -> None:
    watchdog = LoopWatchdog(threshold=0.1, tick=0.01)
    task = asyncio.create_task(watchdog.run())
    await asyncio.sleep(0)  # let it take its first heartbeat
    records: list[logging.LogRecord] = []
    reported = threading.Event()

    class _Reported(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)
            reported.set()

    handler = _Reported(logging.WARNING)
    logging.getLogger("hub.watchdog").addHandler(handler)
    try:
        _block_the_loop_until(reported)  # the watchdog thread logs while the loop is still blocked
    finally:
        logging.getLogger("hub.watchdog").removeHandler(handler)
        task.cancel()
    assert reported.is_set(), "no stall was reported while the loop was blocked"
    message = records[0].getMessage()
    assert "event loop has been blocked" in message
    assert "_block_the_loop_until" in message  # the stack names the culprit
    assert watchdog.stalls == 1


async def test_lag_is_measured_and_health_reports_it() -> None:
    watchdog = LoopWatchdog(threshold=0.05, tick=0.005)
    task = asyncio.create_task(watchdog.run())
    try:
        for _ in range(5):
            await asyncio.sleep(0.01)
        _block_the_loop_until(threading.Event(), 0.2)  # the next lag sample must show it
        for _ in range(3):
            await asyncio.sleep(0.01)
        health = watchdog.health()
    finally:
        task.cancel()
    assert health.detail["lag_max_ms"] >= 150
    assert health.detail["stalls"] == 1
    assert health.status in (HealthStatus.OK, HealthStatus.DEGRADED)
