"""The login, first-start setup and logout pages (HTML forms; the JSON API is hub.http.auth_api).

The login and setup forms are posted before there is a session, so they carry a double-submit
CSRF token: a random value in a SameSite=Strict cookie and the same value in a hidden field.
"""

import secrets

from aiohttp import web

from hub.auth.passwords import MIN_PASSWORD_LENGTH, password_problem
from hub.auth.service import LoginRefused
from hub.auth.users import USER_NAME, UserExists
from hub.http.auth import CSRF_FIELD, end_session, start_session
from hub.http.keys import HUB_KEY
from hub.http.templating import render

routes = web.RouteTableDef()
FORM_COOKIE = "bms_hub_form"


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this hub only (never `//elsewhere` or a full URL)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def _form_page(
    request: web.Request, template: str, status: int = 200, **context: object
) -> web.Response:
    """Render a form with a fresh double-submit CSRF token (cookie + hidden field)."""
    token = secrets.token_urlsafe(24)
    response = await render(request, template, status=status, csrf_token=token, **context)
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="Strict", path="/")
    return response


def _form_token_ok(request: web.Request, form: dict) -> bool:
    cookie = request.cookies.get(FORM_COOKIE)
    offered = form.get(CSRF_FIELD)
    return (
        bool(cookie)
        and isinstance(offered, str)
        and secrets.compare_digest(cookie.encode(), offered.encode())
    )


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    if await request.app[HUB_KEY].auth.setup_pending():
        raise web.HTTPSeeOther("/setup")
    return await _form_page(
        request, "auth/login.html", next=_safe_next(request.query.get("next")), error=None, username=""
    )


@routes.post("/login")
async def login_form(request: web.Request) -> web.Response:
    form = dict(await request.post())
    target = _safe_next(str(form.get("next") or ""))
    username = str(form.get("username") or "")
    if not _form_token_ok(request, form):
        return await _form_page(
            request,
            "auth/login.html",
            400,
            next=target,
            username=username,
            error="The form expired: please try again.",
        )
    auth = request.app[HUB_KEY].auth
    try:
        user = await auth.login(username, str(form.get("password") or ""), request.remote)
    except LoginRefused as refused:
        status = 429 if refused.retry_after else 401
        return await _form_page(
            request, "auth/login.html", status, next=target, username=username, error=refused.message
        )
    _, session_id = await auth.sessions.create(user.name, user.role)
    response = web.HTTPSeeOther(target)
    start_session(request, response, session_id)
    response.del_cookie(FORM_COOKIE, path="/")
    raise response


@routes.get("/setup")
async def setup_page(request: web.Request) -> web.Response:
    if not await request.app[HUB_KEY].auth.setup_pending():
        raise web.HTTPSeeOther("/login")
    return await _form_page(
        request, "auth/setup.html", error=None, username="admin", min_length=MIN_PASSWORD_LENGTH
    )


@routes.post("/setup")
async def setup_form(request: web.Request) -> web.Response:
    """Create the first admin with the one-time token from the log, and log them in."""
    auth = request.app[HUB_KEY].auth
    if not await auth.setup_pending():
        raise web.HTTPSeeOther("/login")
    form = dict(await request.post())
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    error = None
    if not _form_token_ok(request, form):
        error = "The form expired: please try again."
    elif not USER_NAME.fullmatch(username):
        error = "Admin name: use 1 to 64 letters, digits, '_', '.', '@' or '-'."
    elif problem := password_problem(password):
        error = f"Password: {problem}."
    if error is None:
        try:
            user = await auth.finish_setup(
                str(form.get("setup_token") or ""), username, password, request.remote
            )
        except UserExists:
            user = None
        if user is None:
            error = "Wrong setup token: copy it from the hub's log."
        else:
            _, session_id = await auth.sessions.create(user.name, user.role)
            response = web.HTTPSeeOther("/")
            start_session(request, response, session_id)
            raise response
    return await _form_page(
        request, "auth/setup.html", 400, error=error, username=username, min_length=MIN_PASSWORD_LENGTH
    )


@routes.post("/logout")
async def logout_form(request: web.Request) -> web.Response:
    """End the session (the form carries its CSRF token) and show the logged-out page."""
    response = await render(request, "auth/logged_out.html")
    await end_session(request, response)
    return response
