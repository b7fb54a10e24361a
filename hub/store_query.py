"""Reading history: raw samples, precomputed rollups, and buckets made from them on request.

Everything goes through the store's reader connection. 15- and 30-minute buckets come straight
from the rollups table, 60-minute ones are merged from 30-minute rollups, and 1- and 5-minute ones
are aggregated from raw samples (which are kept for a day only, so they stay small).
"""

from collections.abc import AsyncIterator, Iterable, Sequence

from hub.store_buckets import ROLLUP_MINUTES, Agg, Bucket, Rollup, bucket_start, coarsen, roll_up
from hub.store_chunks import CHUNK_SAMPLES, Sample
from hub.store_samples import BAD, read
from hub.store_tables import Database

RawRow = Sample  # ts ms, value, quality code
_IN_CHUNK = 500  # point keys per IN (...) list
_AGG_SQL = {
    Agg.AVG: "sum / count",
    Agg.MIN: "min",
    Agg.MAX: "max",
    Agg.LAST: "last",
    Agg.COUNT: "count",
    Agg.ALL: "min, max, sum / count, last, count",
}


class History:
    """Queries over the store's committed data."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def keys(self, point_ids: Iterable[str]) -> dict[str, int]:
        """The integer keys of the points that have ever been stored, by point id."""
        wanted = list(dict.fromkeys(point_ids))
        found: dict[str, int] = {}
        for begin in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[begin : begin + _IN_CHUNK]
            sql = f"SELECT point_id, key FROM points WHERE point_id IN ({','.join('?' * len(chunk))})"
            async with self._db.reader.execute(sql, chunk) as cursor:
                found.update(await cursor.fetchall())  # type: ignore[arg-type]
        return found

    async def raw(self, key: int, start: int, end: int) -> list[RawRow]:
        """One point's raw samples with start <= ts < end (epoch ms), oldest first."""
        return await read(self._db.reader, key, start, end)

    async def raw_pages(
        self, key: int, start: int, end: int, size: int = 10_000
    ) -> AsyncIterator[list[RawRow]]:
        """Like `raw`, in pages of about `size` rows (whole chunks), so a long range is never held whole."""
        chunks = max(2, size // CHUNK_SAMPLES)  # the first may hold only times before `start`
        while start < end:
            rows = await read(self._db.reader, key, start, end, chunks)
            if not rows:
                return
            yield rows
            start = rows[-1][0] + 1

    async def rollups(
        self, minutes: int, keys: Sequence[int], start: int, end: int
    ) -> dict[int, list[Rollup]]:
        """Stored rollups of width `minutes` starting in [start, end), per point key, oldest first."""
        found: dict[int, list[Rollup]] = {key: [] for key in keys}
        async for row in self._stored(minutes, "min, max, sum, count, last, last_ts", keys, start, end):
            found[row[0]].append(Rollup(*row[1:]))
        return found

    async def buckets(
        self, bucket: Bucket, keys: Sequence[int], start: int, end: int
    ) -> dict[int, list[Rollup]]:
        """Rollups of any width the API offers, per point key, oldest first (the first bucket whole)."""
        minutes = bucket.minutes
        start = bucket_start(start, minutes)
        if minutes in ROLLUP_MINUTES:
            return await self.rollups(minutes, keys, start, end)
        if minutes == 60:
            finer = await self.rollups(30, keys, start, end)
            return _by_key(
                keys, coarsen({(key, r.start): r for key, rows in finer.items() for r in rows}, 60)
            )
        samples = [
            (key, ts, value)
            for key in keys
            for ts, value, quality in await self.raw(key, start, end)
            if quality != BAD
        ]
        return _by_key(keys, roll_up(samples, minutes))

    async def series(
        self, bucket: Bucket, agg: Agg, keys: Sequence[int], start: int, end: int
    ) -> dict[int, list[tuple]]:
        """Rows (bucket start, *the statistics `agg` asks for) per point key, oldest first.

        Stored widths select only the columns asked for: converting fewer values is most of the cost.
        """
        if bucket.minutes not in ROLLUP_MINUTES:
            return {
                key: [(r.start, *r.values(agg)) for r in rows]
                for key, rows in (await self.buckets(bucket, keys, start, end)).items()
            }
        found: dict[int, list[tuple]] = {key: [] for key in keys}
        start = bucket_start(start, bucket.minutes)
        async for row in self._stored(bucket.minutes, _AGG_SQL[agg], keys, start, end):
            found[row[0]].append(row[1:])
        return found

    async def _stored(
        self, minutes: int, columns: str, keys: Sequence[int], start: int, end: int
    ) -> AsyncIterator[tuple]:
        """(point key, bucket start, *columns) of stored rollups, ordered by key and time."""
        for begin in range(0, len(keys), _IN_CHUNK):
            chunk = list(keys[begin : begin + _IN_CHUNK])
            sql = (
                f"SELECT point_key, bucket_ts, {columns} FROM rollups "
                f"WHERE width_min = ? AND point_key IN ({','.join('?' * len(chunk))}) "
                "AND bucket_ts >= ? AND bucket_ts < ? ORDER BY point_key, bucket_ts"
            )
            async with self._db.reader.execute(sql, (minutes, *chunk, start, end)) as cursor:
                for row in await cursor.fetchall():
                    yield row


def _by_key(keys: Sequence[int], buckets: dict[tuple[int, int], Rollup]) -> dict[int, list[Rollup]]:
    found: dict[int, list[Rollup]] = {key: [] for key in keys}
    for key, start in sorted(buckets):
        found[key].append(buckets[(key, start)])
    return found
