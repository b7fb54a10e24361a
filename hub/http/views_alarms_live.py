"""What keeps alarm pages current: a change signal over server-sent events, and the status cards fragment.

`/live/alarms` carries no alarm data, only an `alarms` event saying "something changed": each page
then fetches its own view again (with its own filters). A burst of transitions is one event, and a
client gets at most one a MIN_GAP_S, so a flapping point cannot flood the browsers; a client's
memory is one flag.
"""

import asyncio
import contextlib
import logging

from aiohttp import web

from hub.alarms.cards import card_json
from hub.alarms.service import AlarmChanged
from hub.core import Hub, HubStopping
from hub.http.keys import HUB_KEY
from hub.http.point_rows import format_age
from hub.http.templating import render

_LOGGER = logging.getLogger(__name__)

routes = web.RouteTableDef()

MIN_GAP_S = 1.0  # at most one change event a second per client
KEEPALIVE_S = 15.0  # an SSE comment this often keeps proxies from closing an idle stream
WRITE_TIMEOUT_S = 5.0  # a client that cannot take one event within this is dropped (its browser reconnects)
CARDS_REFRESH_S = 5  # the overview asks for its status cards again this often


class ChangeSignal:
    """One client's "alarms changed since the last event" flag."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()
        self.closed = False

    def on_change(self, _event: object) -> None:
        self._changed.set()

    def close(self, _event: object = None) -> None:
        """End the stream (the hub is stopping) instead of holding the server's shutdown."""
        self.closed = True
        self._changed.set()

    async def wait(self, within_s: float) -> bool:
        """Whether alarms changed within `within_s` seconds; the flag is cleared."""
        try:
            async with asyncio.timeout(within_s):
                await self._changed.wait()
        except TimeoutError:
            return False
        self._changed.clear()
        return True


@routes.get("/live/alarms", name="live_alarms")
async def live_alarms(request: web.Request) -> web.StreamResponse:
    """Send `event: alarms` when alarms changed (text/event-stream), coalesced to one a MIN_GAP_S."""
    bus = request.app[HUB_KEY].bus
    signal = ChangeSignal()
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    unsubscribes = (bus.subscribe(AlarmChanged, signal.on_change), bus.subscribe(HubStopping, signal.close))
    try:
        with contextlib.suppress(ConnectionResetError):  # the browser left
            await _follow(signal, response)
    except TimeoutError:
        _LOGGER.info("alarm feed dropped a slow client (%s)", request.remote)
        if request.transport is not None:
            request.transport.abort()  # its browser reconnects
    finally:
        for unsubscribe in unsubscribes:
            unsubscribe()
    return response


async def _follow(signal: ChangeSignal, response: web.StreamResponse) -> None:
    """Write change events (and keep-alive comments) until the hub stops; TimeoutError for a slow client."""
    await response.write(b": connected\n\n")
    while True:
        changed = await signal.wait(KEEPALIVE_S)
        if signal.closed:
            return
        async with asyncio.timeout(WRITE_TIMEOUT_S):
            await response.write(b"event: alarms\ndata: changed\n\n" if changed else b": keepalive\n\n")
        if changed:
            await asyncio.sleep(MIN_GAP_S)  # what changes meanwhile is one event after the gap


def status_cards(hub: Hub) -> list[dict[str, object]]:
    """The configured status cards, each point's state and freshness now (as GET /api/status-cards)."""
    now = hub.alarms.now()
    return [card_json(card, hub.points, now) for card in hub.config.alarms.status_cards]


@routes.get("/live/status-cards")
async def status_cards_fragment(request: web.Request) -> web.Response:
    """The overview's status cards (htmx asks again every CARDS_REFRESH_S, so ages and freshness move)."""
    return await render(
        request,
        "fragments/alarm_status_cards.html",
        cards=status_cards(request.app[HUB_KEY]),
        format_age=format_age,
        refresh_s=CARDS_REFRESH_S,
    )
