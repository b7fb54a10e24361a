"""Finished discovery operations in `data_dir/discovery.json`, until the SQLite store takes over.

Writes are atomic (temporary file, fsync, rename, fsync of the folder) and run in a worker thread
so the event loop never waits on the disk. A file that cannot be read or understood is logged
and ignored: the hub starts without the old results rather than not at all.
"""

import asyncio
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from hub.codec import operation_from_json, operation_json
from hub.discovery import DiscoveryOperation

_LOGGER = logging.getLogger(__name__)

_FORMAT = 1


class JsonDiscoveryStore:
    """A DiscoveryStore in one JSON file, rewritten whole on every save."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()  # saves land in the order they were asked for

    async def load(self) -> list[DiscoveryOperation]:
        """The stored operations, oldest first; none when the file is missing or unusable."""
        try:
            text = await asyncio.to_thread(self.path.read_text, encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as err:
            _LOGGER.error("cannot read %s, starting without stored discovery results: %s", self.path, err)
            return []
        try:
            data = json.loads(text)
            if data["format"] != _FORMAT:
                raise ValueError(f"unknown format {data['format']!r}")
            return [operation_from_json(item) for item in data["operations"]]
        except (ValueError, KeyError, TypeError) as err:
            _LOGGER.error(
                "ignoring %s, it is not a discovery results file this hub understands: %s: %s",
                self.path, type(err).__name__, err,
            )  # fmt: skip
            return []

    async def save(self, operations: Sequence[DiscoveryOperation]) -> None:
        """Replace the file's content with these operations."""
        data = {"format": _FORMAT, "operations": [operation_json(op) for op in operations]}
        text = json.dumps(data, ensure_ascii=False, indent=1)
        async with self._lock:
            await asyncio.to_thread(_write_atomically, self.path, text)


def _write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` so that a crash leaves the old content or the new one, never a mix."""
    temporary = path.with_name(f"{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
