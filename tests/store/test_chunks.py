"""Raw samples packed in chunks: the blob codec, merging and packing, and the writer on a real file."""

import pytest

from hub.store_buckets import Rollup
from hub.store_chunks import CHUNK_SAMPLES, CHUNK_SPAN_MS, decode, encode, merge, pack
from hub.store_query import History
from tests.store.conftest import T0, OpenStore, rows, sample_rows

MS = 1000
START = int(T0 * MS)


@pytest.mark.parametrize(
    "values",
    [
        [20.5, -1e300, float("inf"), 0.1],  # doubles
        [1, -(2**63), 2**63 - 1, 0],  # 64-bit integers
        ["on", None, 2.5, 3, "", "ünï"],  # anything else: JSON
        [7.25],  # one sample: no deltas
    ],
)
@pytest.mark.parametrize("step", [1, 70_000, 2**33])  # 2-, 4- and 8-byte time deltas
def test_encode_decode__round_trip(values, step):
    times = [START + i * step for i in range(len(values))]
    qualities = [i % 3 for i in range(len(values))]
    for kept in (qualities, [0] * len(values)):
        blob = encode(times, values, kept)
        assert decode(START, blob) == list(zip(times, values, kept, strict=True))


def test_encode__about_ten_bytes_a_float_sample():
    times = [START + i * 1000 + i % 9 for i in range(CHUNK_SAMPLES)]
    blob = encode(times, [20.0 + i / 7 for i in range(CHUNK_SAMPLES)], [0] * CHUNK_SAMPLES)
    assert len(blob) == 3 + 2 * (CHUNK_SAMPLES - 1) + 8 * CHUNK_SAMPLES


def test_merge__in_order_appends__equal_times_replaced_by_the_later_arrival():
    stored = [(1, 1.0, 0), (5, 5.0, 0)]
    assert merge(stored, [(6, 6.0, 0), (7, 7.0, 0)]).samples == [*stored, (6, 6.0, 0), (7, 7.0, 0)]
    merged = merge(stored, [(3, 3.0, 0), (5, 50.0, 1), (3, 30.0, 0)])
    assert merged.samples == [(1, 1.0, 0), (3, 30.0, 0), (5, 50.0, 1)]
    assert sorted(merged.replaced) == [3, 5]


def test_pack__bounded_by_count_and_span_each_chunk_starting_at_its_first_sample():
    samples = [(START + i * 1000, float(i), 0) for i in range(200)]
    samples += [(START + 10 * 3_600_000 + i * 600_000, 1.0, 0) for i in range(7)]  # 10-minute steps
    chunks = pack(samples)
    decoded = [decode(start, data) for start, data in chunks]
    assert [sample for chunk in decoded for sample in chunk] == samples
    assert all(chunk[0][0] == start for chunk, (start, _) in zip(decoded, chunks, strict=True))
    assert all(len(chunk) <= CHUNK_SAMPLES for chunk in decoded)
    assert all(chunk[-1][0] - chunk[0][0] < CHUNK_SPAN_MS for chunk in decoded)
    assert [len(chunk) for chunk in decoded] == [64, 64, 64, 8, 3, 3, 1]


async def test_writer__a_late_sample_lands_in_its_older_chunk(open_store: OpenStore, tmp_path):
    store = await open_store()
    for i in range(300):
        store.add("p", START + i * 1000, float(i))
    assert await store.flush()
    store.add("p", START + 100_500, -1.0)  # between two stored samples of an older chunk
    store.add("p", START + 5_000, 55.0)  # replaces a stored one
    store.add("p", START - 1, -2.0)  # before everything stored
    assert await store.flush()

    history = History(store)
    key = (await history.keys(["p"]))["p"]
    got = await history.raw(key, START - 10, START + 400_000)
    assert len(got) == 302
    assert got[0] == (START - 1, -2.0, 0)
    assert (START + 5_000, 55.0, 0) in got
    assert (START + 100_500, -1.0, 0) in got
    assert [ts for ts, _, _ in got] == sorted({ts for ts, _, _ in got})


async def test_writer__about_eleven_bytes_a_sample_on_disk(open_store: OpenStore, tmp_path):
    store = await open_store(raw_retention_hours=87_600)
    for second in range(0, 600, 5):  # 100 points every 5 s for 10 minutes, a commit every 20 s
        for point in range(100):
            store.add(f"p{point}", START + second * MS + point, 20.0 + (second + point) % 97 / 10)
        if second % 20 == 15:
            assert await store.flush()
    size = rows(tmp_path / "hub.db", "SELECT sum(pgsize) FROM dbstat WHERE name = 'sample_chunks'")[0][0]
    count = sample_rows(tmp_path / "hub.db", "SELECT count(*) FROM samples")[0][0]
    assert count == 12_000
    assert size / count <= 14  # a row of one sample took 27 bytes


async def rollup_table(store) -> list[tuple]:
    async with store.reader.execute(
        "SELECT width_min, bucket_ts, min, max, sum, count, last, last_ts FROM rollups ORDER BY 1, 2"
    ) as cursor:
        return await cursor.fetchall()


async def test_rollups__replaying_bucketed_readings_gives_the_same_rollups(open_store: OpenStore):
    store = await open_store()
    readings = [(START + minutes * 60_000, float(minutes)) for minutes in (0, 15, 30, 45, 60, 75)]
    for ts, value in readings:
        store.add_bucketed("bms.t", ts, value, minutes=15)
    assert await store.flush()
    once = await rollup_table(store)

    for ts, value in readings:  # the BMS sends the same period again: in another commit ...
        store.add_bucketed("bms.t", ts, value, minutes=15)
    assert await store.flush()
    assert await rollup_table(store) == once
    for _ in range(2):  # ... and twice within one commit
        for ts, value in readings:
            store.add_bucketed("bms.t", ts + 60_000, value, minutes=15)
    assert await store.flush()
    assert await rollup_table(store) == once
    assert once[:2] == [
        (15, START, 0.0, 0.0, 0.0, 1, 0.0, START),
        (15, START + 900_000, 15.0, 15.0, 15.0, 1, 15.0, START + 900_000),
    ]


async def test_rollups__a_corrected_reading_replaces_its_contribution(open_store: OpenStore):
    store = await open_store()
    store.add("p", START, 1.0)
    store.add("p", START + 60_000, 50.0)  # wrong, corrected below
    store.add("p", START + 120_000, 3.0)
    assert await store.flush()
    store.add("p", START + 60_000, 2.0)
    store.add("p", START + 180_000, 4.0)  # a new sample in the same bucket, same commit
    assert await store.flush()

    history = History(store)
    key = (await history.keys(["p"]))["p"]
    for minutes in (15, 30):
        (rollup,) = (await history.rollups(minutes, [key], START, START + 1_800_000))[key]
        assert rollup == Rollup(START, 1.0, 4.0, 10.0, 4, 4.0, START + 180_000)
