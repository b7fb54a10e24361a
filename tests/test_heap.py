"""The heap trimmer gives freed C-heap pages back to the OS, and reports what the heap holds.

Real glibc, real allocations: the test frees a burst that a surviving block pins inside the heap
(the pattern that grew the hub's RSS at site scale) and checks the process's RSS falls after a trim.
"""

import asyncio
import gc
import threading

import pytest

from hub.heap import HeapFigures, HeapTrimmer, _resident_bytes

pytestmark = pytest.mark.skipif(not HeapTrimmer().supported, reason="needs glibc's malloc_trim")

_MB = 1024 * 1024


def _pinned_burst(total_mb: int) -> bytes:
    """Allocate `total_mb` in 4 kB blocks (malloc's heap, not mmap or pymalloc), free all but the
    last, and return it: it sits above the freed blocks, so free() alone cannot shrink the heap."""
    burst = [bytes(4096) for _ in range(total_mb * _MB // 4096)]
    survivor = bytes(4096)
    del burst
    gc.collect()
    return survivor


def test_a_trim_returns_freed_pages_below_a_surviving_block() -> None:
    trimmer = HeapTrimmer()
    trimmer.trim()  # start from a trimmed heap
    survivor = _pinned_burst(64)
    before = _resident_bytes()
    figures = trimmer.trim()
    assert figures.released_bytes >= 32 * _MB, "the freed burst stayed resident"
    assert _resident_bytes() <= before - 32 * _MB
    assert figures.free_bytes >= 32 * _MB  # still the allocator's address space, no longer resident
    assert figures.in_use_bytes > 0
    assert len(survivor) == 4096


def test_health_reports_the_heap_after_each_trim() -> None:
    trimmer = HeapTrimmer()
    assert trimmer.health().detail.keys() == {"trims", "released_bytes", "python_blocks"}
    assert trimmer.health().detail["trims"] == 0
    figures = trimmer.trim()
    detail = trimmer.health().detail
    assert detail["trims"] == 1
    assert detail["in_use_bytes"] == figures.in_use_bytes
    assert detail["free_bytes"] == figures.free_bytes
    assert detail["mapped_bytes"] >= figures.in_use_bytes
    assert detail["released_bytes"] == figures.released_bytes


async def test_run_trims_on_its_interval_off_the_event_loop() -> None:
    trimmer = HeapTrimmer(interval=0.01)
    loop = asyncio.get_running_loop()
    trimmed_thrice = asyncio.Event()
    threads: set[int] = set()
    trim = trimmer.trim

    def counted_trim() -> HeapFigures:
        figures = trim()
        threads.add(threading.get_ident())
        if trimmer.trims == 3:
            loop.call_soon_threadsafe(trimmed_thrice.set)
        return figures

    trimmer.trim = counted_trim  # type: ignore[method-assign]
    task = asyncio.create_task(trimmer.run())
    try:
        async with asyncio.timeout(10):
            await trimmed_thrice.wait()
    finally:
        task.cancel()
    assert threading.get_ident() not in threads
    assert "last_trim_ms" in trimmer.health().detail


def test_health_counts_the_python_objects_kept() -> None:
    trimmer = HeapTrimmer()

    def blocks() -> int:
        count = trimmer.health().detail["python_blocks"]
        assert isinstance(count, int)
        return count

    before = blocks()
    kept = [object() for _ in range(100_000)]
    during = blocks()
    del kept
    after = blocks()
    assert during - before >= 100_000
    assert during - after >= 100_000
