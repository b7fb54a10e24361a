"""REST: the integrations installed (with versions), configured (with state and error) and loaded (health)."""

from collections.abc import Mapping
from typing import cast

from aiohttp import web

from hub.http.keys import HUB_KEY
from hub.loader import find_integrations

routes = web.RouteTableDef()


@routes.get("/api/integrations")
async def list_integrations(request: web.Request) -> web.Response:
    """Every installed or configured integration, by domain."""
    manager = request.app[HUB_KEY].integrations
    installed = find_integrations()
    statuses = {status.domain: status for status in manager.statuses()}
    # The manager's health report already asks each loaded integration (and survives one that raises).
    health = cast(Mapping[str, Mapping[str, object]], manager.health().detail["integrations"])
    answer = []
    for domain in sorted({*installed, *statuses}):
        found, status = installed.get(domain), statuses.get(domain)
        answer.append(
            {
                "domain": domain,
                "installed": found is not None,
                "distribution": found.distribution if found else None,
                "version": found.version if found else None,
                "module": found.module if found else None,
                "configured": status is not None,
                "state": str(status.state) if status else None,
                "error": status.error if status else None,
                "health": health.get(domain, {}).get("health"),
            }
        )
    return web.json_response({"integrations": answer})
