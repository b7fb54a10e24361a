"""The aiohttp application: every route on one port, and the hub's life cycle tied to the app's.

Every /api error is JSON (hub.http.errors); who may call each route is decided by hub.http.auth
with the table in hub.http.auth_rules.
"""

from aiohttp import web

from hub.core import Hub
from hub.http import (
    activity,
    alarms,
    api,
    auth_admin,
    auth_api,
    auth_pages,
    bms,
    devices,
    discovery,
    execution,
    flows,
    history,
    integrations,
    live,
    metrics,
    monitored,
    openapi,
    points,
    views,
    views_activity,
    views_alarms,
    views_alarms_live,
    views_bms,
    views_bms_dialogs,
    views_bms_mapping,
    views_discovery,
    views_flows,
    views_points,
)
from hub.http.auth import authorize
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
    app = web.Application(middlewares=[json_errors, authorize])
    app[HUB_KEY] = hub
    app.router.add_get("/mqtt", hub.broker.handle_websocket)
    setup_templating(app)
    app.add_routes(api.routes)
    for module in (discovery, monitored, devices, points, integrations, history, openapi, metrics):
        app.add_routes(module.routes)
    app.add_routes(alarms.routes)
    app.add_routes(bms.routes)
    app.add_routes(activity.routes)
    app.add_routes(flows.routes)
    app.add_routes(execution.routes)
    for page_module in (views, views_points, views_discovery, views_activity, views_flows, live):
        app.add_routes(page_module.routes)
    for bms_page in (views_bms, views_bms_dialogs, views_bms_mapping):  # the BMS connections page
        app.add_routes(bms_page.routes)
    for alarm_page in (views_alarms, views_alarms_live):  # the alarm console and its live parts
        app.add_routes(alarm_page.routes)
    for module in (auth_api, auth_admin, auth_pages):
        app.add_routes(module.routes)
    app.on_startup.append(_start_hub)
    app.on_shutdown.append(_stop_hub)
    return app
