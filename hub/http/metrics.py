"""GET /metrics: the Prometheus text format, for the monitoring tools operators already run."""

from aiohttp import web

from hub.http.keys import HUB_KEY
from hub.metrics import CONTENT_TYPE

routes = web.RouteTableDef()


@routes.get("/metrics")
async def get_metrics(request: web.Request) -> web.Response:
    """Every metric now (authenticated like every route; scrape with an API token)."""
    body = request.app[HUB_KEY].metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
