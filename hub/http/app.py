"""The aiohttp application: every route on one port, and the hub's life cycle tied to the app's.

Every /api error is JSON (hub.http.errors); every route but /api/health and /mqtt needs credentials
(hub.http.auth).
"""

from aiohttp import web

from hub.core import Hub
from hub.http import api, devices, discovery, history, integrations, points
from hub.http.auth import basic_auth
from hub.http.errors import json_errors
from hub.http.keys import HUB_KEY
from hub.http.templating import setup_templating


async def _start_hub(app: web.Application) -> None:
    await app[HUB_KEY].start()


async def _stop_hub(app: web.Application) -> None:
    # on_shutdown, not cleanup: open /mqtt WebSockets would otherwise hold shutdown for its full timeout.
    await app[HUB_KEY].stop()


def create_app(hub: Hub) -> web.Application:
    """Build the application for `hub`; starting the app starts the hub."""
    app = web.Application(middlewares=[json_errors, basic_auth])
    app[HUB_KEY] = hub
    app.router.add_get("/mqtt", hub.broker.handle_websocket)
    setup_templating(app)
    app.add_routes(api.routes)
    for module in (discovery, devices, points, integrations, history):
        app.add_routes(module.routes)
    app.on_startup.append(_start_hub)
    app.on_shutdown.append(_stop_hub)
    return app
