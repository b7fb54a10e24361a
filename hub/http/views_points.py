"""The point page: a chart and statistics over a chosen span, CSV export, priority array, and the write form.

Writes go through the one command service (hub.commands) as the logged-in user, source `ui`, in two
steps: the first POST checks the request with a dry run (a refusal is shown at once, with its reason),
the second, confirmed, writes. Relinquish is a write of null at the chosen priority.
"""

import time
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from hub.commands import MAX_PRIORITY, MIN_PRIORITY, WriteOutcome, WriteRequest, WriteResult, WriteSource
from hub.http.keys import HUB_KEY, USER_KEY
from hub.http.point_rows import format_value, point_row
from hub.http.templating import render
from hub.http.views_chart import DEFAULT_SPAN, SPANS, Chart, Span, chart, rollup_chart, span_named
from hub.http.views_page import FormError, page
from hub.integration import DEFAULT_PRIORITY, DeviceError, PriorityArrayIntegration
from hub.points import Point, PointKind, Value
from hub.store_buckets import Agg, Bucket, bucket_start
from hub.store_query import History

routes = web.RouteTableDef()

_BINARY = {"on": True, "true": True, "1": True, "off": False, "false": False, "0": False}


@dataclass(frozen=True)
class WriteForm:
    """A checked write form: the value (None relinquishes) and the priority."""

    value: Value
    priority: int
    relinquish: bool


@routes.get("/points/{point_id}", name="point_page")
async def point_page(request: web.Request) -> web.Response:
    """One point: its latest value, a chart over the span `range` names (24 h unless it says otherwise)
    with min/max/avg, and its write form. An unknown `range` is a 400 that shows the default chart."""
    hub = request.app[HUB_KEY]
    point = _point(request)
    if point is None:
        return await page(request, "pages/not_found.html", "/devices", status=404, what="point")
    try:
        span, error = span_named(request.query.get("range")), None
    except ValueError as err:
        span, error = DEFAULT_SPAN, str(err)
    drawn, csv_query = await _history_chart(History(hub.store), point.id, span, int(time.time() * 1000))
    integration = hub.integrations.get(hub.points.device(point.device_id).domain)
    return await page(
        request,
        "pages/point.html",
        "/devices",
        status=400 if error else 200,
        error=error,
        row=point_row(hub.points, point, time.time()),
        device=hub.points.device(point.device_id),
        chart=drawn,
        span=span,
        spans=SPANS,
        csv_url="/api/data/timeseries?" + urlencode(csv_query),
        commandable=point.writable and isinstance(integration, PriorityArrayIntegration),
        priorities=range(MIN_PRIORITY, MAX_PRIORITY + 1),
        default_priority=DEFAULT_PRIORITY,
    )


async def _history_chart(history: History, point_id: str, span: Span, end: int) -> tuple[Chart, dict]:
    """The point's chart over `span` up to `end` (epoch ms), and the history query of its CSV export."""
    key = (await history.keys([point_id])).get(point_id)
    if span.bucket_minutes is None:
        start = end - span.ms
        rows = await history.raw(key, start, end) if key is not None else []
        query = {"points": point_id, "from": start, "to": end, "format": "csv"}
        return chart(rows, start, end, span.time_format), query
    start = bucket_start(end - span.ms, span.bucket_minutes)  # whole buckets from the left edge
    bucket = Bucket(f"{span.bucket_minutes}m")
    rollups = (await history.buckets(bucket, [key], start, end))[key] if key is not None else []
    query = {"points": point_id, "from": start, "to": end, "bucket": bucket, "agg": Agg.ALL, "format": "csv"}
    return rollup_chart(rollups, start, end, span), query


@routes.get("/points/{point_id}/priority")
async def priority_fragment(request: web.Request) -> web.Response:
    """The point's 16 priority slots as the device holds them now (an htmx fragment)."""
    hub = request.app[HUB_KEY]
    point = _point(request)
    if point is None:
        return await _message(request, "error", "Unknown point.", status=404)
    integration = hub.integrations.get(hub.points.device(point.device_id).domain)
    if not isinstance(integration, PriorityArrayIntegration):
        return await _message(
            request, "error", "This point's integration has no priority arrays.", status=409
        )
    try:
        array = await integration.priority_array(point.id)
    except DeviceError as err:
        return await _message(request, "error", f"The device did not answer: {err}", status=502)
    if array is None:
        return await _message(request, "error", "This point has no priority array.", status=409)
    active = next((i for i, v in enumerate(array.slots, start=1) if v is not None), None)
    return await render(
        request,
        "fragments/priority.html",
        slots=[
            (i, None if v is None else format_value(point, v)) for i, v in enumerate(array.slots, start=1)
        ],
        active=active,
        default=None if array.relinquish_default is None else format_value(point, array.relinquish_default),
    )


@routes.post("/points/{point_id}/write")
async def write_point(request: web.Request) -> web.Response:
    """Check (dry run) and ask to confirm, or, confirmed, write through the command service."""
    hub = request.app[HUB_KEY]
    point = _point(request)
    if point is None:
        return await _message(request, "error", "Unknown point.", status=404)
    data = await request.post()
    try:
        form = parse_write_form(
            point, data.get("action", "write"), data.get("value", ""), data.get("priority", "")
        )
    except FormError as err:
        return await _message(request, "error", str(err), status=422)
    confirmed = data.get("confirm") == "yes"
    result = await hub.commands.write(
        WriteRequest(
            point.id,
            form.value,
            form.priority,
            actor=request[USER_KEY],
            source=WriteSource.UI,
            dry_run=not confirmed,
        )
    )
    if result.outcome is WriteOutcome.DRY_RUN:
        return await render(
            request, "fragments/write_confirm.html", point=point, form=form, shown=_shown(point, form)
        )
    response = await render(
        request,
        "fragments/write_result.html",
        status=_STATUS[result.outcome],
        result=result,
        shown=_shown(point, form),
        verified_text=_verified_text(result),
    )
    if result.outcome is WriteOutcome.WRITTEN:
        response.headers["HX-Trigger"] = "refresh-priority"  # the page re-reads the priority array
    return response


_STATUS = {WriteOutcome.WRITTEN: 200, WriteOutcome.REFUSED: 422, WriteOutcome.FAILED: 502}


def parse_write_form(point: Point, action: object, text: object, priority_text: object) -> WriteForm:
    """The form's value for the point's kind and its priority; FormError names a bad field."""
    try:
        priority = int(str(priority_text))
    except ValueError:
        raise FormError(f"priority: expected a whole number from {MIN_PRIORITY} to {MAX_PRIORITY}") from None
    if action == "relinquish":
        return WriteForm(None, priority, relinquish=True)
    if action != "write":
        raise FormError("action: expected write or relinquish")
    return WriteForm(_parse_value(point, str(text).strip()), priority, relinquish=False)


def _parse_value(point: Point, text: str) -> Value:
    if not text:
        raise FormError("value: required (use Relinquish to release the priority)")
    try:
        if point.kind is PointKind.ANALOG:
            return float(text)
        if point.kind is PointKind.MULTISTATE:
            return int(text)
    except ValueError:
        expected = "a number" if point.kind is PointKind.ANALOG else "a whole number (a state)"
        raise FormError(f"value: expected {expected}, got {text!r}") from None
    if point.kind is PointKind.BINARY:
        if text.lower() not in _BINARY:
            raise FormError(f"value: expected on or off, got {text!r}")
        return _BINARY[text.lower()]
    return text


def _shown(point: Point, form: WriteForm) -> str:
    """The request in words, e.g. `18.50 °C at priority 8`."""
    what = "relinquish" if form.relinquish else f"{format_value(point, form.value)} {point.units}".strip()
    return f"{what} at priority {form.priority}"


def _verified_text(result: WriteResult) -> str:
    if result.verified is None:
        return "not read back"
    return "read back: the device holds it" if result.verified else f"read back: {result.reason}"


async def _message(request: web.Request, kind: str, text: str, status: int) -> web.Response:
    return await render(request, "fragments/message.html", status=status, kind=kind, text=text)


def _point(request: web.Request) -> Point | None:
    try:
        return request.app[HUB_KEY].points.point(request.match_info["point_id"])
    except KeyError:
        return None
