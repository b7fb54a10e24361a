"""REST for the activity log (the store's events) and the site's status cards."""

from aiohttp import web

from hub.alarms.activity import EventQuery, query_events
from hub.alarms.cards import card_json
from hub.codec import iso
from hub.http import params
from hub.http.keys import HUB_KEY

routes = web.RouteTableDef()

_EVENT_PARAMETERS = frozenset({"kind", "severity", "subject", "since", "until", "limit", "offset"})


@routes.get("/api/events")
async def list_events(request: web.Request) -> web.Response:
    """Events newest first, filtered by kind, severity, subject and time range; paginated."""
    params.refuse_unknown(request, _EVENT_PARAMETERS)
    limit, offset = params.page(request)
    query = EventQuery(
        kinds=params.texts(request, "kind"),
        severities=params.texts(request, "severity"),
        subject=request.query.get("subject"),
        since=params.time_param(request, "since"),
        until=params.time_param(request, "until"),
        limit=limit,
        offset=offset,
    )
    events, total = await query_events(request.app[HUB_KEY].store, query)
    body = [
        {
            "id": e.id,
            "time": iso(e.timestamp),
            "timestamp": e.timestamp,
            "kind": e.kind,
            "subject": e.subject,
            "data": e.data,
        }
        for e in events
    ]
    return web.json_response({"total": total, "events": body})


@routes.get("/api/status-cards")
async def status_cards(request: web.Request) -> web.Response:
    """Every configured card with each point's state, last-updated time and freshness."""
    hub = request.app[HUB_KEY]
    now = hub.alarms.now()
    return web.json_response(
        {"cards": [card_json(c, hub.points, now) for c in hub.config.alarms.status_cards]}
    )
