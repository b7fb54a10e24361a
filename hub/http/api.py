"""REST API routes."""

import time

from aiohttp import web

from hub.http.keys import HUB_KEY

routes = web.RouteTableDef()


@routes.get("/api/health")
async def get_health(request: web.Request) -> web.Response:
    """Public: each component's health; 200 when all are ok, 503 otherwise."""
    hub = request.app[HUB_KEY]
    report = hub.health.report()
    body = {
        "version": hub.version,
        "uptime_s": round(time.monotonic() - hub.started_at, 3) if hub.started_at else 0,
        "identity": hub.identity.topic_prefix if hub.started_at else None,
        **report.as_dict(),
    }
    return web.json_response(body, status=200 if report.healthy else 503)
