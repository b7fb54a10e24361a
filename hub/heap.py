"""Hand the C heap's free pages back to the OS, so the hub's RSS follows what it holds.

glibc keeps what `free` releases inside its arenas for reuse, and gives memory back to the OS only
from the top of an arena. At 10,000 points (bench/site.py) the bytes the allocator had in use stayed
near 27 MB for an hour while its arenas grew from 38 to 66 MB: a burst of short-lived allocations
(a large query, a page render, a batch commit in the store's thread) raises an arena, one block that
outlives the burst pins it, and RSS keeps the high-water mark of every burst (134 -> 179 MB, and
still climbing in steps). `malloc_trim(0)` also returns the whole free pages inside the arenas. It
runs once a minute in a worker thread (ctypes releases the GIL), never on the event loop.

Elsewhere than glibc (musl, macOS) there is no `malloc_trim`, and nothing runs.
"""

import asyncio
import ctypes
import ctypes.util
import logging
import os
import sys
import time
from dataclasses import dataclass

from hub.health import ComponentHealth, HealthStatus

_LOGGER = logging.getLogger(__name__)

TRIM_INTERVAL_S = 60.0
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
_MB = 1024 * 1024


class _MallInfo2(ctypes.Structure):
    """glibc's `struct mallinfo2` (2.33 and later): every arena's figures, in bytes."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",  # bytes the arenas took from the OS (not counting mmapped blocks)
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",  # bytes in blocks mmapped on their own
            "usmblks",
            "fsmblks",
            "uordblks",  # bytes in use
            "fordblks",  # bytes free inside the arenas
            "keepcost",
        )
    ]


@dataclass(frozen=True)
class HeapFigures:
    """The C heap after a trim, and what the trim gave back."""

    in_use_bytes: int
    free_bytes: int  # kept by the allocator for reuse: address space, resident or not after a trim
    mapped_bytes: int
    released_bytes: int
    trim_ms: float


def _libc() -> ctypes.CDLL | None:
    """The C library if it is glibc (it has malloc_trim); None elsewhere."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "malloc_trim") or not hasattr(libc, "mallinfo2"):
        return None
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim.restype = ctypes.c_int
    libc.mallinfo2.argtypes = []
    libc.mallinfo2.restype = _MallInfo2
    return libc


def _resident_bytes() -> int:
    """This process's RSS, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_BYTES
    except OSError:
        return 0


class HeapTrimmer:
    """Trims the C heap every `interval` seconds and reports its figures in the health report."""

    def __init__(self, interval: float = TRIM_INTERVAL_S) -> None:
        self._interval = interval
        self._libc = _libc()
        self._last: HeapFigures | None = None
        self.trims = 0
        self.released_bytes = 0  # since start

    @property
    def supported(self) -> bool:
        """Whether this C library can trim (glibc 2.33 or later)."""
        return self._libc is not None

    async def run(self) -> None:
        """Trim until cancelled (returns at once where the C library cannot)."""
        if self._libc is None:
            _LOGGER.info("the C library has no malloc_trim: freed heap memory stays with the process")
            return
        while True:
            await asyncio.sleep(self._interval)
            await asyncio.to_thread(self.trim)

    def trim(self) -> HeapFigures:
        """Give the heap's free pages back now and keep the figures for health (blocking: call it
        from a worker thread; only one runs at a time)."""
        if self._libc is None:
            raise RuntimeError("the C library has no malloc_trim")
        before = _resident_bytes()
        began = time.perf_counter()
        self._libc.malloc_trim(0)
        took = time.perf_counter() - began
        info = self._libc.mallinfo2()
        figures = HeapFigures(
            in_use_bytes=info.uordblks,
            free_bytes=info.fordblks,
            mapped_bytes=info.arena + info.hblkhd,
            released_bytes=max(0, before - _resident_bytes()),
            trim_ms=took * 1000,
        )
        self._record(figures)
        return figures

    def _record(self, figures: HeapFigures) -> None:
        self._last = figures
        self.trims += 1
        self.released_bytes += figures.released_bytes
        _LOGGER.debug(
            "heap trimmed in %.1f ms: %.1f MB given back, %.1f MB in use, %.1f MB free",
            figures.trim_ms,
            figures.released_bytes / _MB,
            figures.in_use_bytes / _MB,
            figures.free_bytes / _MB,
        )

    def health(self) -> ComponentHealth:
        """Always ok: the figures tell a leak (in use grows) from fragmentation (free grows).

        `python_blocks` does the same for Python's own allocator, which takes its memory outside the
        C heap: objects kept alive make it grow; a fragmented pool of small objects does not.
        """
        detail: dict[str, object] = {
            "trims": self.trims,
            "released_bytes": self.released_bytes,
            "python_blocks": sys.getallocatedblocks(),
        }
        last = self._last
        if last is not None:
            detail |= {
                "in_use_bytes": last.in_use_bytes,
                "free_bytes": last.free_bytes,
                "mapped_bytes": last.mapped_bytes,
                "last_trim_ms": round(last.trim_ms, 2),
            }
        return ComponentHealth(HealthStatus.OK, detail)
