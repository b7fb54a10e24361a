"""Raw samples packed as chunks: one row holds a short run of one point's samples, about 10 bytes each.

A chunk is keyed (point key, start) where start is the time of its first sample; it holds at most
`CHUNK_SAMPLES` samples spanning less than `CHUNK_SPAN_MS`, so its row stays inside one page and
rewriting the newest chunk each commit stays cheap. Chunk i holds exactly the point's samples in
[start_i, start_i+1), so the chunk holding a time is the last one starting at or before it.

The blob: a 3-byte header (flags, sample count), the time deltas between consecutive samples as an
array of the narrowest unsigned width that fits (2, 4 or 8 bytes; none for one sample), the quality
codes (one byte each, left out when all are good), then the values: an array of doubles or of
64-bit integers when the chunk holds only those, else a JSON list (text, null, mixed types).
"""

import json
import struct
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise, repeat
from operator import sub

from hub.points import Value

CHUNK_SAMPLES = 64  # ~700 bytes of floats: one row never spills onto an overflow page
CHUNK_SPAN_MS = 30 * 60_000  # retention deletes a chunk once its start is this much past the horizon

Sample = tuple[int, Value, int]  # ts ms, value, quality code

_HEADER = struct.Struct("<BH")
_WIDTHS = ("", "H", "I", "q")  # delta widths by the flags' two low bits (0: one sample, no deltas)
_SIZES = (0, 2, 4, 8)
_FLOATS, _INTS, _JSON = 0, 4, 8  # value kinds, flags bits 2-3
_KIND_MASK = 12
_QUALITIES = 16
_SWAP = sys.byteorder == "big"  # arrays are stored little-endian


def _array(code: str, data: memoryview) -> array:
    values = array(code)
    values.frombytes(data)
    if _SWAP:
        values.byteswap()
    return values


def _bytes(values: array) -> bytes:
    if _SWAP:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def encode(times: Sequence[int], values: Sequence[Value], qualities: Sequence[int]) -> bytes:
    """One chunk's blob from its samples' strictly increasing times, values and quality codes."""
    deltas = list(map(sub, times[1:], times))
    biggest = max(deltas, default=0)
    width = 0 if not deltas else 1 if biggest < 1 << 16 else 2 if biggest < 1 << 32 else 3
    flags = width
    parts = [b"", _bytes(array(_WIDTHS[width], deltas)) if deltas else b""]
    if any(qualities):
        flags |= _QUALITIES
        parts.append(bytes(qualities))
    kinds = set(map(type, values))
    if kinds == {float}:
        parts.append(_bytes(array("d", values)))  # type: ignore[arg-type]
    elif kinds == {int}:
        flags |= _INTS
        parts.append(_bytes(array("q", values)))  # type: ignore[arg-type]
    else:
        flags |= _JSON
        parts.append(json.dumps(list(values), separators=(",", ":")).encode())
    parts[0] = _HEADER.pack(flags, len(times))
    return b"".join(parts)


def decode(start: int, blob: bytes) -> list[Sample]:
    """The chunk's samples, oldest first."""
    flags, count = _HEADER.unpack_from(blob)
    view = memoryview(blob)
    position = _HEADER.size
    width = flags & 3
    times: Iterable[int] = (start,)
    if width:
        end = position + (count - 1) * _SIZES[width]
        times = accumulate(_array(_WIDTHS[width], view[position:end]), initial=start)
        position = end
    qualities: Iterable[int] = repeat(0)
    if flags & _QUALITIES:
        qualities = blob[position : position + count]
        position += count
    kind = flags & _KIND_MASK
    if kind == _JSON:
        values: Iterable[Value] = json.loads(view[position:].tobytes())
    else:
        values = _array("d" if kind == _FLOATS else "q", view[position:]).tolist()
    return list(zip(times, values, qualities, strict=False))  # qualities may repeat forever


def append(start: int, blob: bytes, samples: list[Sample]) -> bytes | None:
    """The chunk with newer samples spliced on without decoding it (the bytes `encode` would give), or None.

    Only the usual case is spliced: good samples of the chunk's own number kind, strictly after its last
    one, whose time deltas fit its width, within its count and span. Anything else is merged and packed.
    """
    flags, count = _HEADER.unpack_from(blob)
    width, kind = flags & 3, flags & _KIND_MASK
    if not width or flags & _QUALITIES or kind == _JSON or count + len(samples) > CHUNK_SAMPLES:
        return None
    wanted = float if kind == _FLOATS else int
    if samples[-1][0] - start >= CHUNK_SPAN_MS or any(s[1].__class__ is not wanted or s[2] for s in samples):
        return None
    middle = _HEADER.size + (count - 1) * _SIZES[width]
    times = [sample[0] for sample in samples]
    deltas = list(
        map(
            sub, times, [start + sum(_array(_WIDTHS[width], memoryview(blob)[_HEADER.size : middle])), *times]
        )
    )
    if min(deltas) <= 0 or max(deltas) >> (8 * _SIZES[width]):
        return None
    values = array("d" if kind == _FLOATS else "q", [sample[1] for sample in samples])  # type: ignore[misc]
    parts = (
        blob[_HEADER.size : middle],
        _bytes(array(_WIDTHS[width], deltas)),
        blob[middle:],
        _bytes(values),
    )
    return _HEADER.pack(flags, count + len(samples)) + b"".join(parts)


@dataclass(frozen=True)
class Merged:
    """A point's samples after a batch was merged in, and which stored (or batch) times it replaced."""

    samples: list[Sample]
    replaced: list[int]


def merge(stored: list[Sample], batch: list[Sample]) -> Merged:
    """Stored samples with the batch merged in by time: for equal times the later arrival wins."""
    if (not stored or batch[0][0] > stored[-1][0]) and all(
        earlier[0] < later[0] for earlier, later in pairwise(batch)
    ):
        return Merged(stored + batch, [])  # the usual case: newer samples, in order
    by_time = {sample[0]: sample for sample in stored}
    replaced = []
    for sample in batch:
        if sample[0] in by_time:
            replaced.append(sample[0])
        by_time[sample[0]] = sample
    return Merged(sorted(by_time.values()), replaced)


def pack(samples: list[Sample], size: int = CHUNK_SAMPLES) -> list[tuple[int, bytes]]:
    """(start, blob) chunks of time-ordered samples: a new chunk when one has `size` or spans too long."""
    first, last = samples[0][0], samples[-1][0]
    if len(samples) <= size and last - first < CHUNK_SPAN_MS:
        return [(first, _encoded(samples))]
    chunks = []
    begin = 0
    for index, sample in enumerate(samples):
        if index - begin == size or sample[0] - samples[begin][0] >= CHUNK_SPAN_MS:
            chunks.append((samples[begin][0], _encoded(samples[begin:index])))
            begin = index
    chunks.append((samples[begin][0], _encoded(samples[begin:])))
    return chunks


def _encoded(samples: list[Sample]) -> bytes:
    times, values, qualities = zip(*samples, strict=True)
    return encode(times, values, qualities)
