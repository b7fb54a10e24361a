"""REST errors in one JSON shape, `{"error": message}`, and never a traceback to the client."""

import json
import logging

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

_LOGGER = logging.getLogger(__name__)
_API = "/api/"


def api_error(cls: type[web.HTTPError], message: str, headers: dict[str, str] | None = None) -> web.HTTPError:
    """An HTTP error whose body is `{"error": message}`."""
    return cls(text=json.dumps({"error": message}), content_type="application/json", headers=headers)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every /api error the JSON shape; log an unexpected exception once and answer 500."""
    if not request.path.startswith(_API):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPError as err:
        if err.content_type == "application/json":
            raise
        kept = {k: v for k, v in err.headers.items() if k not in (hdrs.CONTENT_TYPE, hdrs.CONTENT_LENGTH)}
        return web.json_response(
            {"error": f"{err.reason}: {request.method} {request.path}"}, status=err.status, headers=kept
        )
    except Exception:
        _LOGGER.exception("%s %s failed", request.method, request.path)
        raise api_error(web.HTTPInternalServerError, "internal error (details in the hub's log)") from None
