"""Samples lost: which values the simulated devices held that the hub's store does not have.

Definition. Every analog input of every simulated BACnet device holds each value for `period` s
(three poll intervals; bench/site_devices.py `site_value`). A value is *expected* when the whole
step lies inside the checked window and outside every excluded span (the device switched off, the
hub killed: nothing can read it then). It is *stored* when the hub's history
(GET /api/data/timeseries, raw) has a sample of that point with that value, timestamped between the
step's start and its end plus `GRACE_S` (the poll that read it may answer just after the change).
Samples lost = expected values not stored. A poll that never happened (a late or failed cycle)
counts as a loss too: what counts is what the store holds, not what the hub says it did.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from site_devices import site_value, step_span
from site_hub import Api

GRACE_S = 5.0
_SAME = 0.01  # the devices' values have one decimal; BACnet REAL is float32


@dataclass(frozen=True)
class Span:
    """A time span [start, end) in epoch seconds; `instance` None = every device."""

    start: float
    end: float
    instance: int | None = None


@dataclass
class Lost:
    """The check's outcome."""

    expected: int = 0
    missing: int = 0
    points: int = 0
    examples: list[str] = field(default_factory=list)
    error: str = ""  # why the check could not be made


def expected_values(
    instance: int, number: int, start: float, end: float, period: float, excluded: Sequence[Span]
) -> list[tuple[float, float, float]]:
    """(step start, step end, value) of every step of one input that lies whole inside the window."""
    out = []
    step = int(start // period) - 1
    while True:
        step += 1
        begin, finish = step_span(instance, number, step, period)
        if begin < start:
            continue
        if finish > end:
            return out
        if any(s.start < finish and begin < s.end and s.instance in (None, instance) for s in excluded):
            continue
        out.append((begin, finish, site_value(instance, number, step)))


async def lost_samples(
    api: Api,
    instances: Sequence[int],
    inputs: int,
    period: float,
    start: float,
    end: float,
    excluded: Sequence[Span] = (),
) -> Lost:
    """Compare what every analog input held in [start, end) with the hub's stored history."""
    result = Lost()
    point_ids = [f"{i}.analogInput.{n}" for i in instances for n in range(1, inputs + 1)]
    for first in range(0, len(point_ids), 1000):
        chunk = point_ids[first : first + 1000]
        stored = await api.samples(chunk, start, end + period + GRACE_S)
        for point_id in chunk:
            instance, _, number = point_id.split(".")
            rows = stored.get(point_id, [])
            result.points += 1
            for begin, finish, value in expected_values(
                int(instance), int(number), start, end, period, excluded
            ):
                result.expected += 1
                low, high = begin * 1000, (finish + GRACE_S) * 1000
                if not any(low <= t < high and v is not None and abs(v - value) < _SAME for t, v, *_ in rows):
                    result.missing += 1
                    if len(result.examples) < 5:
                        result.examples.append(f"{point_id}={value} during [{begin:.1f}, {finish:.1f})")
    return result
