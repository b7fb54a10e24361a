"""Server-sent events for a device page: each changed point's table row, pushed as it changes.

Every client has its own pending map, one entry per point (a newer update replaces an unsent one),
so memory is bounded by the device's point count however fast values change. A client that cannot
take a batch within WRITE_TIMEOUT_S is dropped; its browser reconnects. A new stream starts with
every row once, so nothing that changed between the page and the stream (or a drop and the
reconnection) is missed. Between updates the feed re-checks freshness, so a point going stale is
shown without a change.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from aiohttp import web

from hub.core import HubStopping
from hub.http.keys import HUB_KEY
from hub.http.point_rows import PointRow, point_row
from hub.http.templating import JINJA_KEY
from hub.points import Point, PointRegistry, PointUpdate

_LOGGER = logging.getLogger(__name__)

routes = web.RouteTableDef()

WRITE_TIMEOUT_S = 5.0  # a client that takes longer than this for one batch is dropped
FRESHNESS_CHECK_S = 2.0  # how often rows are re-checked for going stale (or fresh) without an update
KEEPALIVE_S = 15.0  # an SSE comment this often keeps proxies from closing an idle stream


def event_name(point_id: str) -> str:
    """The SSE event that carries a point's row (the row's `sse-swap` attribute)."""
    return f"point:{point_id}"


class PointFeed:
    """One client's pending rows: the latest update per point, waiting to be sent."""

    def __init__(
        self, registry: PointRegistry, point_ids: Iterable[str], clock: Callable[[], float] = time.time
    ) -> None:
        self._registry = registry
        self._clock = clock
        self._wanted = frozenset(point_ids)
        self._pending: set[str] = set(self._wanted)  # every row once: what changed since the page (or a drop)
        self._ready = asyncio.Event()
        self._ready.set()
        self.closed = False
        self._stale = {point_id: registry.is_stale(point_id) for point_id in self._wanted}
        self.coalesced = 0

    def on_update(self, update: PointUpdate) -> None:
        """Bus handler: mark the point as changed (a point already waiting is coalesced)."""
        point_id = update.point.id
        if point_id not in self._wanted:
            return
        if point_id in self._pending:
            self.coalesced += 1
        self._pending.add(point_id)
        self._ready.set()

    def _known(self, point_id: str) -> Point | None:
        try:
            return self._registry.point(point_id)
        except KeyError:
            self._stale.pop(point_id, None)
            return None

    def close(self, _event: object = None) -> None:
        """End the feed (the hub is stopping): the stream ends instead of holding the server's shutdown."""
        self.closed = True
        self._ready.set()

    def check_freshness(self) -> None:
        """Mark the points whose stale flag flipped since they were last sent."""
        now = self._clock()
        for point_id, was_stale in self._stale.items():
            if self._registry.is_stale(point_id, now) != was_stale:
                self._pending.add(point_id)
        if self._pending:
            self._ready.set()

    async def next_batch(self, wait_s: float) -> list[PointRow]:
        """The rows changed since the last batch (empty after `wait_s` without a change)."""
        try:
            async with asyncio.timeout(wait_s):
                await self._ready.wait()
        except TimeoutError:
            return []
        self._ready.clear()
        changed, self._pending = self._pending, set()
        now = self._clock()
        known = [p for p in map(self._known, sorted(changed)) if p is not None]  # gone with their integration
        rows = [point_row(self._registry, point, now) for point in known]
        for row in rows:
            self._stale[row.point.id] = row.stale
        return rows


@routes.get("/live/devices/{device_id}", name="live_device")
async def live_device(request: web.Request) -> web.StreamResponse:
    """Stream the device's point rows as they change (text/event-stream)."""
    hub = request.app[HUB_KEY]
    device_id = request.match_info["device_id"]
    try:
        hub.points.device(device_id)
    except KeyError:
        raise web.HTTPNotFound(text=f"unknown device {device_id!r}") from None
    feed = PointFeed(hub.points, (p.id for p in hub.points.points(device_id)))
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    template = request.app[JINJA_KEY].get_template("fragments/point_row.html")
    unsubscribe = hub.bus.subscribe(PointUpdate, feed.on_update)
    unsubscribe_stop = hub.bus.subscribe(HubStopping, feed.close)
    loop = asyncio.get_running_loop()
    last_write = loop.time()
    try:
        while not feed.closed:
            rows = await feed.next_batch(FRESHNESS_CHECK_S)
            if not rows:
                feed.check_freshness()
                if loop.time() - last_write < KEEPALIVE_S:
                    continue
            chunks = [": keepalive\n\n"] if not rows else []
            for row in rows:
                html = await template.render_async(row=row)
                data = "".join(f"data: {line}\n" for line in html.splitlines())
                chunks.append(f"event: {event_name(row.point.id)}\n{data}\n")
            async with asyncio.timeout(WRITE_TIMEOUT_S):
                await response.write("".join(chunks).encode())
            last_write = loop.time()
    except TimeoutError:
        _LOGGER.info("live feed for %s dropped a slow client (%s)", device_id, request.remote)
        if request.transport is not None:
            request.transport.abort()  # its unsent rows are dropped with it; the browser reconnects
    except ConnectionResetError:
        pass  # the browser left
    finally:
        unsubscribe()
        unsubscribe_stop()
    return response
