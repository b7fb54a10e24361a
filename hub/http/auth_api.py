"""REST for logging in and out, who am I, and the browser's short-lived MQTT credentials."""

import voluptuous as vol
from aiohttp import web

from hub.auth.audit import AuthEvent
from hub.auth.service import LoginRefused
from hub.codec import iso
from hub.config import string
from hub.http.auth import caller_of, end_session, start_session
from hub.http.errors import api_error
from hub.http.keys import HUB_KEY
from hub.http.validation import read_body

routes = web.RouteTableDef()

LOGIN_SCHEMA = vol.Schema({vol.Required("username"): string, vol.Required("password"): string})


@routes.post("/api/auth/login")
async def login(request: web.Request) -> web.Response:
    """Start a browser session (cookie) for a user name and password; JSON only, so no form can post here."""
    if request.content_type != "application/json":
        raise api_error(web.HTTPUnsupportedMediaType, "expected Content-Type: application/json")
    body = await read_body(request, LOGIN_SCHEMA)
    auth = request.app[HUB_KEY].auth
    try:
        user = await auth.login(body["username"], body["password"], request.remote)
    except LoginRefused as refused:
        if refused.retry_after:
            headers = {"Retry-After": str(int(refused.retry_after) + 1)}
            raise api_error(web.HTTPTooManyRequests, refused.message, headers) from None
        raise api_error(web.HTTPUnauthorized, refused.message) from None
    session, session_id = await auth.sessions.create(user.name, user.role)
    response = web.json_response(
        {"user": user.name, "role": str(user.role), "csrf_token": session.csrf_token}
    )
    start_session(request, response, session_id)
    return response


@routes.post("/api/auth/logout")
async def logout(request: web.Request) -> web.Response:
    """End the caller's session; its browser MQTT credentials stay valid only until they expire."""
    caller = caller_of(request)
    if caller.session is None:
        raise api_error(
            web.HTTPBadRequest, "not a browser session: API tokens are revoked by an admin instead"
        )
    response = web.json_response({"logged_out": caller.name})
    await end_session(request, response)
    return response


@routes.get("/api/auth/me")
async def me(request: web.Request) -> web.Response:
    """Who the caller is, with what role, and (for a session) its CSRF token and expiry."""
    caller = caller_of(request)
    body: dict[str, object] = {"user": caller.name, "role": str(caller.role)}
    if caller.session is not None:
        sessions = request.app[HUB_KEY].auth.sessions
        body["kind"] = "session"
        body["csrf_token"] = caller.session.csrf_token
        body["expires_at"] = iso(sessions.expires_at(caller.session))
    else:
        body["kind"] = "token"
    return web.json_response(body)


@routes.post("/api/auth/mqtt-credentials")
async def mqtt_credentials(request: web.Request) -> web.Response:
    """Short-lived MQTT credentials for /mqtt that read what the caller's role may read, and nothing more."""
    caller = caller_of(request)
    auth = request.app[HUB_KEY].auth
    # Never outlive the session that asked for them.
    not_after = None if caller.session is None else auth.sessions.expires_at(caller.session)
    credentials = auth.browser_credentials.issue(caller.name, caller.role, not_after)
    await auth.audit.record(
        AuthEvent.MQTT_CREDENTIALS,
        credentials.username,
        caller.name,
        request.remote,
        expires_at=iso(credentials.expires_at),
    )
    return web.json_response(
        {
            "username": credentials.username,
            "password": credentials.password,
            "expires_at": iso(credentials.expires_at),
        }
    )
