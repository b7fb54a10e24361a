"""HTTP Basic authentication against the hub's MQTT users, until the security issue brings sessions.

Every route needs credentials except /api/health (public by design) and /mqtt (the broker
authenticates its own clients). Credentials are checked by the hub's `BrokerAccess`, so HTTP and
MQTT accept the same users; the user's name is kept under USER_KEY (e.g. as the actor of a write).
Credentials are never logged.
"""

import base64
import logging

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from hub.http.errors import api_error
from hub.http.keys import HUB_KEY, USER_KEY

_LOGGER = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/api/health", "/mqtt", "/static"})  # /static: vendored assets only
_CHALLENGE = {hdrs.WWW_AUTHENTICATE: 'Basic realm="BMS Hub", charset="UTF-8"'}


@web.middleware
async def basic_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Let a request through only with a known user's credentials (or to a public path)."""
    resource = request.match_info.route.resource  # the route that will answer, not the raw path
    if resource is not None and resource.canonical in PUBLIC_PATHS:
        return await handler(request)
    header = request.headers.get(hdrs.AUTHORIZATION)
    if header is None:
        raise api_error(web.HTTPUnauthorized, "authentication required (HTTP Basic)", _CHALLENGE)
    credentials = _basic_credentials(header)
    if credentials is None:
        raise api_error(web.HTTPUnauthorized, "malformed Authorization header", _CHALLENGE)
    principal = await request.app[HUB_KEY].access.authenticate(*credentials)
    if principal is None:
        _LOGGER.info("refused HTTP credentials from %s (%s %s)", request.remote, request.method, request.path)
        raise api_error(web.HTTPUnauthorized, "wrong username or password", _CHALLENGE)
    request[USER_KEY] = principal.name
    return await handler(request)


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """(username, password) from a `Basic` Authorization header (RFC 7617, UTF-8), or None."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except ValueError:  # bad base64 or not UTF-8
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None
