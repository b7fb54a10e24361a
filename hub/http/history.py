"""REST: history of points from the store, as JSON for charts or CSV for export.

`GET /api/data/timeseries?points=a,b&from=..&to=..&bucket=15m&agg=avg&max_points=500&format=csv`.
Times are ISO 8601 (UTC unless an offset is given) or epoch milliseconds; rows carry epoch ms in
JSON and ISO 8601 in CSV. Both are streamed: raw samples page by page, buckets point by point.
"""

import csv
import io
import json
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from aiohttp import web

from hub.codec import iso, json_value
from hub.http.errors import api_error
from hub.http.keys import HUB_KEY
from hub.http.params import natural
from hub.store_buckets import Agg, Bucket, downsample
from hub.store_query import History, RawRow
from hub.store_samples import QUALITIES

routes = web.RouteTableDef()

DEFAULT_SPAN_MS = 24 * 3_600_000
MAX_POINTS_PER_REQUEST = 5000
_PARAMETERS = {"points", "from", "to", "bucket", "agg", "max_points", "format"}


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"


@dataclass(frozen=True)
class SeriesQuery:
    """A checked timeseries request."""

    point_ids: tuple[str, ...]
    start: int  # epoch ms, inclusive
    end: int  # epoch ms, exclusive
    bucket: Bucket
    agg: Agg | None  # None for raw samples
    max_points: int | None
    format: Format

    @property
    def columns(self) -> list[str]:
        if self.agg is None:
            return ["t", "value", "quality"]
        if self.agg is Agg.ALL:
            return ["t", "min", "max", "avg", "last", "count"]
        return ["t", str(self.agg)]


def _bad(parameter: str, message: str) -> web.HTTPError:
    return api_error(web.HTTPBadRequest, f"{parameter}: {message}")


def _choice(request: web.Request, name: str, kind: type[StrEnum], default: StrEnum | None) -> StrEnum | None:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        return kind(text)
    except ValueError:
        raise _bad(name, f"expected one of {', '.join(kind)}, got {text!r}") from None


MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last moment ISO 8601 times reach


def _time(request: web.Request, name: str, default: int) -> int:
    """Epoch ms from ISO 8601 or epoch milliseconds."""
    text = request.query.get(name)
    if text is None:
        return default
    magnitude = natural(text.removeprefix("-"))
    if magnitude is not None:
        epoch_ms = -magnitude if text.startswith("-") else magnitude
        if abs(epoch_ms) > MAX_EPOCH_MS:
            raise _bad(name, f"expected epoch milliseconds within the years 1 to 9999, got {text!r}")
        return epoch_ms
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _bad(
            name,
            f"expected an ISO 8601 time such as 2025-03-01T12:00:00Z or epoch milliseconds, got {text!r}",
        ) from None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def parse_query(request: web.Request, now_ms: int) -> SeriesQuery:
    """Check every parameter; a bad one is a 400 that names it."""
    unknown = sorted(set(request.query) - _PARAMETERS)
    if unknown:
        raise _bad(unknown[0], f"unknown parameter (expected one of {', '.join(sorted(_PARAMETERS))})")
    point_ids = tuple(
        dict.fromkeys(
            item for value in request.query.getall("points", []) for item in value.split(",") if item
        )
    )
    if not point_ids:
        raise _bad("points", "expected one or more point ids, comma-separated")
    if len(point_ids) > MAX_POINTS_PER_REQUEST:
        raise _bad("points", f"expected at most {MAX_POINTS_PER_REQUEST} point ids, got {len(point_ids)}")
    end = _time(request, "to", now_ms)
    start = _time(request, "from", end - DEFAULT_SPAN_MS)
    if start >= end:
        raise _bad("to", "expected a time after from")
    bucket = _choice(request, "bucket", Bucket, Bucket.RAW)
    agg = _choice(request, "agg", Agg, None)
    if bucket is Bucket.RAW and agg is not None:
        raise _bad("agg", "expected only with a bucket (e.g. bucket=15m); raw samples are not aggregated")
    if bucket is not Bucket.RAW and agg is None:
        agg = Agg.AVG
    max_points = None
    if "max_points" in request.query:
        text = request.query["max_points"]
        max_points = natural(text)
        if max_points is None or max_points < 2:
            raise _bad("max_points", f"expected an int >= 2, got {text!r}")
    output = _choice(request, "format", Format, Format.JSON)
    return SeriesQuery(point_ids, start, end, bucket, agg, max_points, output)  # type: ignore[arg-type]


@routes.get("/api/data/timeseries")
async def timeseries(request: web.Request) -> web.StreamResponse:
    """History of the chosen points: raw samples or buckets, as JSON or CSV."""
    hub = request.app[HUB_KEY]
    query = parse_query(request, int(time.time() * 1000))
    history = History(hub.store)
    keys = await history.keys(query.point_ids)
    registered = {point.id for point in hub.points.points()}
    unknown = [
        point_id for point_id in query.point_ids if point_id not in keys and point_id not in registered
    ]
    if unknown:
        raise api_error(web.HTTPNotFound, f"points: unknown points: {', '.join(map(repr, unknown))}")
    writer = _csv if query.format is Format.CSV else _json
    return await writer(request, _pages(history, query, keys), query)


Page = tuple[str, list[Sequence[object]], int]  # point id, rows to send, rows they stand for


async def _pages(history: History, query: SeriesQuery, keys: dict[str, int]) -> AsyncIterator[Page]:
    """Every chosen point's rows in the API's column order, at least one page per point, in order.

    Raw samples come a page of chunks at a time (unless downsampled), buckets point by point.
    """
    if query.agg is None and query.max_points is None:
        for point_id in query.point_ids:
            yield point_id, [], 0
            if point_id in keys:
                async for page in history.raw_pages(keys[point_id], query.start, query.end):
                    yield point_id, _raw_rows(page), len(page)
        return
    for point_id, rows in await _all_rows(history, query, keys):
        yield point_id, downsample(rows, query.max_points) if query.max_points else rows, len(rows)


async def _stream(request: web.Request, headers: dict[str, str]) -> web.StreamResponse:
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    return response


async def _json(request: web.Request, pages: AsyncIterator[Page], query: SeriesQuery) -> web.StreamResponse:
    """Stream JSON, a page of rows at a time: `total` follows each series' rows."""
    response = await _stream(request, {"Content-Type": "application/json; charset=utf-8"})
    head = {
        "from": iso(query.start / 1000),
        "to": iso(query.end / 1000),
        "bucket": str(query.bucket),
        "agg": query.agg and str(query.agg),
        "columns": query.columns,
    }
    await response.write(json.dumps(head)[:-1].encode() + b', "series": [')
    current, total, sent = None, 0, 0
    async for point_id, rows, count in pages:
        if point_id != current:
            opening = f'{{"point_id": {json.dumps(point_id)}, "rows": ['
            if current is not None:
                opening = f'], "total": {total}}}, {opening}'
            await response.write(opening.encode())
            current, total, sent = point_id, 0, 0
        if rows:
            text = ", ".join(json.dumps(_json_row(row)) for row in rows)
            await response.write((", " + text if sent else text).encode())
        total += count
        sent += len(rows)
    await response.write(f'], "total": {total}}}]}}'.encode())  # every point has a page
    await response.write_eof()
    return response


async def _all_rows(
    history: History, query: SeriesQuery, keys: dict[str, int]
) -> list[tuple[str, list[Sequence[object]]]]:
    """Every chosen point's rows in the API's column order (points never stored have none)."""
    if query.agg is None:
        return [
            (
                point_id,
                _raw_rows(await history.raw(keys[point_id], query.start, query.end))
                if point_id in keys
                else [],
            )
            for point_id in query.point_ids
        ]
    found = await history.series(query.bucket, query.agg, list(keys.values()), query.start, query.end)
    return [(point_id, found.get(keys.get(point_id, -1), [])) for point_id in query.point_ids]


def _raw_rows(rows: Iterable[RawRow]) -> list[Sequence[object]]:
    return [(ts, value, str(QUALITIES[quality])) for ts, value, quality in rows]


def _json_row(row: Sequence[object]) -> list[object]:
    return [json_value(value) for value in row]  # type: ignore[arg-type]


async def _csv(request: web.Request, pages: AsyncIterator[Page], query: SeriesQuery) -> web.StreamResponse:
    """Stream CSV, a page of rows at a time."""
    response = await _stream(
        request,
        {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="timeseries.csv"',
        },
    )
    await response.write(_csv_text([["point_id", "time", *query.columns[1:]]]))
    async for point_id, rows, _ in pages:
        if rows:
            await response.write(_csv_text(_csv_rows(point_id, rows)))
    await response.write_eof()
    return response


def _csv_rows(point_id: str, rows: Iterable[Sequence[object]]) -> list[list[object]]:
    return [[point_id, iso(row[0] / 1000), *(json_value(v) for v in row[1:])] for row in rows]  # type: ignore[operator,arg-type]


def _csv_text(rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()
