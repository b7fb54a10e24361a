"""A bounded record of every sample the simulator gave out: the evidence tests and integrators inspect."""

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from hub.points import Quality, Sample, Value

DEFAULT_SIZE = 10_000


@dataclass(frozen=True)
class Emitted:
    """One sample as the simulator gave it out, stamped with simulated time (seconds since the start)."""

    point_id: str
    sim_time: int
    value: Value
    quality: Quality
    reason: str | None = None

    def as_json(self) -> dict[str, object]:
        """The JSON-lines form `python -m integrations.simulator` prints."""
        line: dict[str, object] = {
            "t": self.sim_time,
            "point": self.point_id,
            "value": self.value,
            "quality": str(self.quality),
        }
        if self.reason is not None:
            line["reason"] = self.reason
        return line


class History:
    """The last `size` samples given out, oldest first; `total` counts every sample ever recorded."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._entries: deque[tuple[str, int, Sample]] = deque(maxlen=size)  # kept raw: reads stay cheap
        self.total = 0

    def record(self, point_id: str, sim_time: int, sample: Sample) -> None:
        """Remember one sample given out at `sim_time`."""
        self._entries.append((point_id, sim_time, sample))
        self.total += 1

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Emitted]:
        return (_emitted(entry) for entry in tuple(self._entries))

    def since(self, mark: int) -> list[Emitted]:
        """The samples recorded after `total` was `mark` (those still held)."""
        newest_first = itertools.islice(reversed(self._entries), max(0, self.total - mark))
        return [_emitted(entry) for entry in reversed(list(newest_first))]

    def of(self, point_id: str) -> list[Emitted]:
        """The held samples of one point, oldest first."""
        return [_emitted(entry) for entry in tuple(self._entries) if entry[0] == point_id]


def _emitted(entry: tuple[str, int, Sample]) -> Emitted:
    point_id, sim_time, sample = entry
    return Emitted(point_id, sim_time, sample.value, sample.quality, sample.reason)
