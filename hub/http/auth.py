"""Authentication, CSRF and role checks for every request, by the table in hub.http.auth_rules.

A caller is a browser session (cookie `bms_hub_session`, HttpOnly, SameSite=Strict, Secure over
TLS) or an API token (`Authorization: Bearer bmsh_...`). A session's state-changing requests
carry its CSRF token in the `X-CSRF-Token` header (HTMX, fetch) or a `csrf_token` form field.
Without a caller, /api/* answers 401 JSON and a browser asking for a page is sent to
/login?next=...; a caller below the route's role gets 403. Until the hub has an admin, only the
setup page, /api/health and static assets are served. Secrets are never logged.
"""

import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from hub.auth.audit import AuthEvent
from hub.auth.roles import Role
from hub.auth.service import AuthService
from hub.auth.sessions import Session, csrf_matches
from hub.auth.settings import CookieSecurity
from hub.auth.users import ApiToken
from hub.http.auth_rules import READS, Access, required_access
from hub.http.errors import api_error
from hub.http.keys import HUB_KEY, ROLE_KEY, USER_KEY
from hub.http.views_page import CSRF_HEADER_KEY

_LOGGER = logging.getLogger(__name__)

SESSION_COOKIE = "bms_hub_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_SETUP_OPEN = frozenset({"/setup", "/api/health", "/static", "/mqtt"})  # the broker checks its own clients
_CHALLENGE = {hdrs.WWW_AUTHENTICATE: 'Bearer realm="BMS Hub"'}


@dataclass(frozen=True)
class Caller:
    """Who made a request: a session's user or an API token, with the role it acts with."""

    name: str  # the actor recorded for what the request does
    role: Role
    session: Session | None = None
    token: ApiToken | None = None


CALLER_KEY = web.RequestKey("caller", Caller)


@web.middleware
async def authorize(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Let a request through only if its caller's role may use the route (or the route is public)."""
    auth = request.app[HUB_KEY].auth
    resource = request.match_info.route.resource  # the route that will answer, not the raw path
    path = resource.canonical if resource is not None else None
    if await auth.setup_pending() and path not in _SETUP_OPEN:
        return _setup_required(request)
    access = required_access(request.method, path) if path is not None else Access.VIEWER
    if access is None:
        _LOGGER.error("%s %s has no entry in hub.http.auth_rules: refused to everyone", request.method, path)
        raise _refusal(request, web.HTTPForbidden, "this route has no access rule yet")
    if access is Access.PUBLIC:
        return await handler(request)
    caller = await _caller(request, auth)
    if caller is None:
        if request.method in READS and _wants_page(request):
            raise web.HTTPSeeOther("/login?" + urlencode({"next": request.path_qs}))
        raise _refusal(request, web.HTTPUnauthorized, "authentication required", _CHALLENGE)
    if (
        caller.session is not None
        and request.method not in READS
        and not await _csrf_ok(request, caller.session)
    ):
        raise _refusal(
            request, web.HTTPForbidden, f"missing or wrong CSRF token (send the {CSRF_HEADER} header)"
        )
    needed = access.role
    assert needed is not None
    if not caller.role.allows(needed):
        raise _refusal(
            request, web.HTTPForbidden, f"forbidden: needs the {needed} role, you are {caller.role}"
        )
    request[CALLER_KEY] = caller
    request[USER_KEY] = caller.name
    request[ROLE_KEY] = caller.role
    if caller.session is not None:  # pages put it in hx-headers: HTMX then sends it with every request
        request[CSRF_HEADER_KEY] = {CSRF_HEADER: caller.session.csrf_token}
    return await handler(request)


async def _caller(request: web.Request, auth: AuthService) -> Caller | None:
    """The request's caller from its API token or session cookie; a bad token is a 401 at once."""
    header = request.headers.get(hdrs.AUTHORIZATION)
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise _refusal(
                request, web.HTTPUnauthorized, "expected Authorization: Bearer <API token>", _CHALLENGE
            )
        token = await auth.users.check_token(secret.strip())
        if token is None:
            _LOGGER.info(
                "refused an unknown or revoked API token from %s (%s %s)",
                request.remote,
                request.method,
                request.path,
            )
            raise _refusal(request, web.HTTPUnauthorized, "unknown or revoked API token", _CHALLENGE)
        return Caller(f"token:{token.name}", token.role, token=token)
    session_id = request.cookies.get(SESSION_COOKIE)
    session = await auth.sessions.get(session_id) if session_id else None
    return None if session is None else Caller(session.user, session.role, session=session)


async def _csrf_ok(request: web.Request, session: Session) -> bool:
    offered = request.headers.get(CSRF_HEADER)
    if offered is None and request.content_type in _FORMS:
        offered = (await request.post()).get(CSRF_FIELD)  # type: ignore[assignment]
    return csrf_matches(session, offered if isinstance(offered, str) else None)


def _wants_page(request: web.Request) -> bool:
    return not request.path.startswith("/api/") and "text/html" in request.headers.get(hdrs.ACCEPT, "")


def _setup_required(request: web.Request) -> web.StreamResponse:
    if _wants_page(request):
        raise web.HTTPSeeOther("/setup")
    message = "the hub has no admin yet: finish the setup at /setup (its one-time token is in the hub's log)"
    raise _refusal(request, web.HTTPServiceUnavailable, message)


def _refusal(
    request: web.Request, cls: type[web.HTTPError], message: str, headers: dict[str, str] | None = None
) -> web.HTTPError:
    if request.path.startswith("/api/"):
        return api_error(cls, message, headers)
    return cls(text=message, headers=headers)


def start_session(request: web.Request, response: web.StreamResponse, session_id: str) -> None:
    """Give the browser its session cookie."""
    auth = request.app[HUB_KEY].auth
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(auth.config.session_max_age),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=_secure(request, auth.config.secure_cookies),
    )


async def end_session(request: web.Request, response: web.StreamResponse) -> None:
    """End the caller's session (if any, recording it in the audit log) and clear its cookie."""
    caller = request.get(CALLER_KEY)
    if caller is not None and caller.session is not None:
        auth = request.app[HUB_KEY].auth
        await auth.sessions.end(caller.session)
        await auth.audit.record(AuthEvent.LOGOUT, caller.name, caller.name, request.remote)
    response.del_cookie(SESSION_COOKIE, path="/")


def _secure(request: web.Request, mode: CookieSecurity) -> bool:
    if mode is CookieSecurity.AUTO:
        return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
    return mode is CookieSecurity.ALWAYS


def caller_of(request: web.Request) -> Caller:
    """The authenticated caller of a non-public route."""
    return request[CALLER_KEY]
