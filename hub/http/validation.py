"""Request bodies checked with voluptuous: bad JSON is a 400, a bad field a 422 that names it.

Field validators are the config's (hub.config: `integer`, `string`, `each`...), so the API and the
config file word their errors the same way.
"""

import json
from collections.abc import Callable
from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.http.errors import api_error

_MESSAGES = {
    "extra keys not allowed": "unknown field",
    "required key not provided": "required",
    "expected a dictionary": "expected a JSON object",
}


async def read_body(request: web.Request, schema: vol.Schema) -> dict[str, Any]:
    """The request's JSON body validated by `schema`; no body counts as `{}`."""
    data: Any = {}
    if request.body_exists:
        try:
            data = await request.json()
            json.dumps(data, ensure_ascii=False).encode()  # a lone surrogate (\ud800) is no text to store
        except (ValueError, RecursionError) as err:  # UnicodeEncodeError too; RecursionError: nested too deep
            raise api_error(web.HTTPBadRequest, f"invalid JSON: {err}") from None
    try:
        return schema(data)
    except vol.Invalid as err:
        errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
        raise api_error(web.HTTPUnprocessableEntity, "; ".join(map(_field_message, errors))) from None


def _field_message(error: vol.Invalid) -> str:
    """E.g. `"priority: expected int between 1 and 16"`; `body` when the whole body is wrong."""
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.path)
    return f"{where.lstrip('.') or 'body'}: {_MESSAGES.get(error.msg, error.msg)}"


def non_empty(what: str) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """After `hub.config.each`: refuse an empty list."""

    def check(value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise vol.Invalid(f"expected at least one {what}")
        return value

    return check
