"""REST history: GET /api/data/timeseries as JSON or streamed CSV, downsampling, 400s naming the parameter."""

import csv
import io
import json
import time

import pytest

from hub.health import HealthStatus
from hub.store_tables import read_events
from tests.conftest import RunningHub, StartHub
from tests.http.helpers import call

HOUR_MS = 3_600_000
# A recent 30-minute boundary: retention keeps everything around it.
BASE = (int(time.time() * 1000) - 3 * HOUR_MS) // 1_800_000 * 1_800_000


@pytest.fixture
async def history_hub(start_hub: StartHub) -> RunningHub:
    """A hub whose store holds: 'a' a sample a minute for two hours (value = minute), 'b' two samples."""
    running = await start_hub()
    store = running.hub.store
    for minute in range(120):
        store.add("a", BASE + minute * 60_000, float(minute))
    store.add("b", BASE, "on", 1)
    store.add("b", BASE + 1000, None, 2)
    assert await store.flush()
    return running


def span(start: int, end: int, **params: object) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"from": start, "to": end, **params}.items())
    return f"/api/data/timeseries?{query}"


async def test_raw__json_rows_with_quality(history_hub: RunningHub):
    status, body = await call(history_hub, "GET", span(BASE, BASE + 3 * 60_000, points="a,b"))
    assert status == 200
    assert body["columns"] == ["t", "value", "quality"]
    assert (body["bucket"], body["agg"]) == ("raw", None)
    assert body["series"] == [
        {
            "point_id": "a",
            "rows": [[BASE, 0.0, "good"], [BASE + 60_000, 1.0, "good"], [BASE + 120_000, 2.0, "good"]],
            "total": 3,
        },
        {"point_id": "b", "rows": [[BASE, "on", "uncertain"], [BASE + 1000, None, "bad"]], "total": 2},
    ]


async def test_buckets__precomputed_rollups(history_hub: RunningHub):
    status, body = await call(history_hub, "GET", span(BASE, BASE + 2 * HOUR_MS, points="a", bucket="30m"))
    assert status == 200
    assert body["columns"] == ["t", "avg"]
    assert body["series"][0]["rows"] == [[BASE + i * 1_800_000, 30 * i + 14.5] for i in range(4)]

    status, body = await call(
        history_hub, "GET", span(BASE, BASE + 2 * HOUR_MS, points="a", bucket="15m", agg="all")
    )
    assert body["columns"] == ["t", "min", "max", "avg", "last", "count"]
    assert body["series"][0]["rows"][1] == [BASE + 900_000, 15.0, 29.0, 22.0, 29.0, 15]


async def test_buckets__a_from_inside_a_bucket_gives_that_whole_bucket(history_hub: RunningHub):
    for bucket in ("5m", "30m", "60m"):
        status, body = await call(
            history_hub,
            "GET",
            span(BASE + 20 * 60_000 + 1, BASE + HOUR_MS, points="a", bucket=bucket, agg="min"),
        )
        assert status == 200
        first = body["series"][0]["rows"][0]
        minutes = int(bucket[:-1])
        start = (BASE + 20 * 60_000) // (minutes * 60_000) * minutes * 60_000
        assert first == [start, float((max(start, BASE) - BASE) // 60_000)], bucket


async def test_iso_times_and_default_span(history_hub: RunningHub):
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(BASE / 1000))
    status, body = await call(
        history_hub, "GET", f"/api/data/timeseries?points=a&from={start}&bucket=30m&agg=count"
    )
    assert status == 200
    assert body["from"] == start.replace("Z", ".000Z")
    assert body["series"][0]["rows"] == [[BASE + i * 1_800_000, 30] for i in range(4)]
    status, body = await call(history_hub, "GET", "/api/data/timeseries?points=a")
    assert status == 200, "the last 24 hours by default"
    assert body["series"][0]["total"] == 120


async def test_max_points__downsampled_keeping_peaks(history_hub: RunningHub):
    store = history_hub.hub.store
    store.add("spiky", BASE, 0.0)
    for second in range(1, 2000):
        store.add("spiky", BASE + second * 1000, 100.0 if second == 1234 else 1.0)
    assert await store.flush()

    status, body = await call(history_hub, "GET", span(BASE, BASE + HOUR_MS, points="spiky", max_points=50))
    assert status == 200
    series = body["series"][0]
    assert series["total"] == 2000
    assert len(series["rows"]) <= 50
    assert [BASE + 1_234_000, 100.0, "good"] in series["rows"]
    assert [BASE, 0.0, "good"] in series["rows"]


async def test_json__a_large_range_streamed_in_pages(history_hub: RunningHub):
    store = history_hub.hub.store
    count = 30_000
    for i in range(count):
        store.add("big", BASE + i * 300, i / 4)
    while store.queue_depth:
        assert await store.flush()
    async with (
        history_hub.http() as session,
        session.get(span(BASE, BASE + 3 * HOUR_MS, points="big,b")) as response,
    ):
        assert response.status == 200
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in response.headers
        body, http_chunks, part = b"", 0, b""
        async for data, end_of_chunk in response.content.iter_chunks():
            part += data
            if end_of_chunk:
                http_chunks += 1
                body += part
                part = b""
    assert http_chunks > 3, "written a page at a time (10,000 samples a page), not built whole"
    document = json.loads(body)
    assert (document["bucket"], document["columns"]) == ("raw", ["t", "value", "quality"])
    big, b = document["series"]
    assert (big["point_id"], big["total"], len(big["rows"])) == ("big", count, count)
    assert big["rows"][:2] == [[BASE, 0.0, "good"], [BASE + 300, 0.25, "good"]]
    assert big["rows"][-1] == [BASE + (count - 1) * 300, (count - 1) / 4, "good"]
    assert b == {"point_id": "b", "rows": [[BASE, "on", "uncertain"], [BASE + 1000, None, "bad"]], "total": 2}


async def test_csv__streamed_export(history_hub: RunningHub):
    async with (
        history_hub.http() as session,
        session.get(span(BASE, BASE + 2 * HOUR_MS, points="a,b", format="csv")) as response,
    ):
        assert response.status == 200
        assert response.content_type == "text/csv"
        assert response.headers["Content-Disposition"] == 'attachment; filename="timeseries.csv"'
        text = await response.text()
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["point_id", "time", "value", "quality"]
    assert len(table) == 1 + 120 + 2
    assert table[1][0] == "a"
    assert table[1][1].endswith("Z")
    assert table[2][2] == "1.0"
    assert table[-1] == ["b", table[-1][1], "", "bad"]


async def test_csv__buckets(history_hub: RunningHub):
    async with (
        history_hub.http() as session,
        session.get(
            span(BASE, BASE + HOUR_MS, points="a", bucket="30m", agg="max", format="csv")
        ) as response,
    ):
        text = await response.text()
    assert list(csv.reader(io.StringIO(text)))[1:] == [
        ["a", time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(BASE / 1000)), "29.0"],
        ["a", time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(BASE / 1000 + 1800)), "59.0"],
    ]


async def test_registered_point_without_history__empty_series(fakes_hub: RunningHub):
    status, body = await call(fakes_hub, "GET", span(BASE, BASE + HOUR_MS, points="alpha-1.p0", bucket="15m"))
    assert status == 200
    assert body["series"][0]["point_id"] == "alpha-1.p0"


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ("", 400, "points: expected one or more point ids"),
        ("points=a&from=yesterday", 400, "from: expected an ISO 8601 time"),
        ("points=a&to=2026-13-01", 400, "to: expected an ISO 8601 time"),
        ("points=a&from=2000&to=1000", 400, "to: expected a time after from"),
        ("points=a&bucket=7m", 400, "bucket: expected one of raw, 1m, 5m, 15m, 30m, 60m, got '7m'"),
        ("points=a&bucket=15m&agg=median", 400, "agg: expected one of avg, min, max, last, count, all"),
        ("points=a&agg=max", 400, "agg: expected only with a bucket"),
        ("points=a&max_points=1", 400, "max_points: expected an int >= 2, got '1'"),
        ("points=a&max_points=%C2%B2", 400, "max_points: expected an int >= 2, got '²'"),
        ("points=a&max_points=" + "9" * 40, 400, "max_points: expected an int >= 2"),
        ("points=a&from=%C2%B2", 400, "from: expected an ISO 8601 time"),
        ("points=a&from=-" + "9" * 16, 400, "from: expected epoch milliseconds within the years 1 to 9999"),
        ("points=a&to=" + "9" * 16, 400, "to: expected epoch milliseconds within the years 1 to 9999"),
        ("points=a&format=xml", 400, "format: expected one of json, csv"),
        ("points=a&limit=5", 400, "limit: unknown parameter"),
        ("points=a,nope", 404, "points: unknown points: 'nope'"),
    ],
)
async def test_bad_parameters(history_hub: RunningHub, query, status, error):
    got, body = await call(history_hub, "GET", f"/api/data/timeseries?{query}")
    assert got == status
    assert body["error"].startswith(error)


async def test_needs_credentials(history_hub: RunningHub):
    status, _ = await call(history_hub, "GET", "/api/data/timeseries?points=a", user=None)
    assert status == 401


async def test_health_reports_the_store(history_hub: RunningHub):
    _, body = await call(history_hub, "GET", "/api/health")
    store = body["components"]["store"]
    assert store["status"] == str(HealthStatus.OK)
    assert store["samples_written"] == 122
    assert store["dropped"] == 0


async def test_the_hub_stores_polled_samples_and_audited_writes(fakes_hub: RunningHub):
    hub = fakes_hub.hub
    write = {"point_id": "alpha-1.setpoint", "value": 22.5}
    status, _ = await call(fakes_hub, "POST", "/api/points/write", write, user="operator")
    assert status == 200
    status, _ = await call(fakes_hub, "POST", "/api/points/read", {"point_ids": ["alpha-1.p0"]})
    assert status == 200, "a fresh read is an accepted sample, published on the bus"
    assert await hub.store.flush()

    status, body = await call(fakes_hub, "GET", "/api/data/timeseries?points=alpha-1.p0")
    assert status == 200
    assert body["series"][0]["total"] >= 1
    (audit,) = await read_events(hub.store, kind="audit")
    assert (audit.subject, audit.data["actor"], audit.data["new"]) == ("alpha-1.setpoint", "operator", 22.5)
