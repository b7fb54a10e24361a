"""REST for admins: users, API tokens and the audit log (with CSV export)."""

from dataclasses import replace
from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.auth.audit import AuditQuery, AuthEvent, event_json, events_csv
from hub.auth.passwords import password_problem
from hub.auth.roles import Role
from hub.auth.users import USER_NAME, ApiToken, User, UserExists
from hub.codec import iso, parse_iso
from hub.config import string
from hub.http.auth import caller_of
from hub.http.errors import api_error
from hub.http.keys import HUB_KEY
from hub.http.params import MAX_ID, natural
from hub.http.validation import read_body

routes = web.RouteTableDef()
MAX_PAGE = 1000


def _role(value: Any) -> Role:
    if isinstance(value, str) and value in set(Role):
        return Role(value)
    raise vol.Invalid(f"expected one of {', '.join(Role)}")


def _user_name(value: Any) -> str:
    if not isinstance(value, str) or not USER_NAME.fullmatch(value):
        raise vol.Invalid("expected 1 to 64 letters, digits, '_', '.', '@' or '-'")
    return value


def _password(value: Any) -> str:
    problem = password_problem(value)
    if problem:
        raise vol.Invalid(problem)
    return value


NEW_USER = vol.Schema(
    {vol.Required("name"): _user_name, vol.Required("role"): _role, vol.Required("password"): _password}
)


def _some_change(body: dict[str, Any]) -> dict[str, Any]:
    if not body:
        raise vol.Invalid("expected role and/or password")
    return body


USER_CHANGE = vol.All(
    vol.Schema({vol.Optional("role"): _role, vol.Optional("password"): _password}), _some_change
)
NEW_TOKEN = vol.Schema({vol.Required("name"): string, vol.Required("role"): _role})


def user_json(user: User) -> dict[str, object]:
    return {
        "name": user.name,
        "role": str(user.role),
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
    }


def token_json(token: ApiToken) -> dict[str, object]:
    return {
        "id": token.id,
        "name": token.name,
        "role": str(token.role),
        "created_by": token.created_by,
        "created_at": iso(token.created_at),
        "last_used_at": iso(token.last_used_at),
        "revoked_at": iso(token.revoked_at),
    }


# -- users ------------------------------------------------------------------------------


@routes.get("/api/users")
async def list_users(request: web.Request) -> web.Response:
    users = await request.app[HUB_KEY].auth.users.all()
    return web.json_response({"users": [user_json(user) for user in users]})


@routes.post("/api/users")
async def add_user(request: web.Request) -> web.Response:
    body = await read_body(request, NEW_USER)
    auth = request.app[HUB_KEY].auth
    try:
        user = await auth.users.add(body["name"], body["role"], body["password"])
    except UserExists:
        raise api_error(web.HTTPConflict, f"name: a user {body['name']!r} exists already") from None
    await auth.audit.record(
        AuthEvent.USER_ADDED, user.name, caller_of(request).name, request.remote, role=str(user.role)
    )
    return web.json_response(user_json(user), status=201)


@routes.get("/api/users/{name}")
async def get_user(request: web.Request) -> web.Response:
    user = await request.app[HUB_KEY].auth.users.get(request.match_info["name"])
    if user is None:
        raise _no_user(request)
    return web.json_response(user_json(user))


@routes.patch("/api/users/{name}")
async def change_user(request: web.Request) -> web.Response:
    """Change a user's role or password; their sessions end (they log in again)."""
    body = await read_body(request, USER_CHANGE)
    name = request.match_info["name"]
    auth = request.app[HUB_KEY].auth
    if "role" in body:  # a password change alone keeps the role
        await _keep_an_admin(request, name, body["role"])
    user = await auth.users.update(name, role=body.get("role"), password=body.get("password"))
    if user is None:
        raise _no_user(request)
    await auth.user_changed(name)
    changed = sorted(body)  # which fields, never the password itself
    await auth.audit.record(
        AuthEvent.USER_CHANGED,
        name,
        caller_of(request).name,
        request.remote,
        changed=changed,
        role=str(user.role),
    )
    return web.json_response(user_json(user))


@routes.delete("/api/users/{name}")
async def delete_user(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    auth = request.app[HUB_KEY].auth
    await _keep_an_admin(request, name, None)
    if not await auth.users.delete(name):
        raise _no_user(request)
    await auth.user_changed(name)
    await auth.audit.record(AuthEvent.USER_DELETED, name, caller_of(request).name, request.remote)
    return web.json_response({"deleted": name})


async def _keep_an_admin(request: web.Request, name: str, new_role: Role | None) -> None:
    """Refuse to delete (`new_role` None) or demote the last admin: nobody could manage the hub any more."""
    users = request.app[HUB_KEY].auth.users
    user = await users.get(name)
    if user is None or user.role is not Role.ADMIN or new_role is Role.ADMIN:
        return
    if await users.admin_count() <= 1:
        raise api_error(web.HTTPConflict, f"{name!r} is the last admin: make another admin first")


def _no_user(request: web.Request) -> web.HTTPError:
    return api_error(web.HTTPNotFound, f"unknown user {request.match_info['name']!r}")


# -- API tokens -------------------------------------------------------------------------


@routes.get("/api/tokens")
async def list_tokens(request: web.Request) -> web.Response:
    tokens = await request.app[HUB_KEY].auth.users.tokens()
    return web.json_response({"tokens": [token_json(token) for token in tokens]})


@routes.post("/api/tokens")
async def create_token(request: web.Request) -> web.Response:
    """A new token with a role; its secret is in this answer only (it is stored as a digest)."""
    body = await read_body(request, NEW_TOKEN)
    auth = request.app[HUB_KEY].auth
    actor = caller_of(request).name
    token, secret = await auth.users.create_token(body["name"], body["role"], actor)
    await auth.audit.record(
        AuthEvent.TOKEN_CREATED, str(token.id), actor, request.remote, name=token.name, role=str(token.role)
    )
    return web.json_response({**token_json(token), "token": secret}, status=201)


@routes.delete("/api/tokens/{token_id}")
async def revoke_token(request: web.Request) -> web.Response:
    text = request.match_info["token_id"]
    token_id = natural(text)
    if token_id is None:
        raise api_error(web.HTTPNotFound, f"unknown token {text!r}")
    auth = request.app[HUB_KEY].auth
    token = await auth.users.revoke_token(token_id)
    if token is None:
        raise api_error(web.HTTPNotFound, f"unknown token {text!r}")
    await auth.audit.record(
        AuthEvent.TOKEN_REVOKED, text, caller_of(request).name, request.remote, name=token.name
    )
    return web.json_response(token_json(token))


# -- audit ------------------------------------------------------------------------------


@routes.get("/api/audit")
async def audit(request: web.Request) -> web.Response:
    """Audit events, newest first, filtered by `kind`, `actor`, `since`, `until`; paged; `format=csv`."""
    query = _audit_query(request)
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "csv"):
        raise _bad("format", f"expected json or csv, got {fmt!r}")
    log = request.app[HUB_KEY].auth.audit
    if fmt == "csv":
        events = await log.page(replace(query, limit=query.limit if "limit" in request.query else MAX_PAGE))
        headers = {"Content-Disposition": 'attachment; filename="audit.csv"'}
        return web.Response(text=events_csv(events), content_type="text/csv", headers=headers)
    events = await log.page(query)
    following = events[-1].id if len(events) == query.limit else None
    return web.json_response({"events": [event_json(event) for event in events], "next_before": following})


def _audit_query(request: web.Request) -> AuditQuery:
    """Every query parameter checked; a bad one is a 400 that names it."""
    return AuditQuery(
        kind=request.query.get("kind") or None,
        actor=request.query.get("actor") or None,
        since_ms=_time(request, "since"),
        until_ms=_time(request, "until"),
        before=_count(request, "before", 1, MAX_ID),
        limit=_count(request, "limit", 1, MAX_PAGE) or 100,
    )


def _time(request: web.Request, name: str) -> int | None:
    text = request.query.get(name)
    if text is None:
        return None
    try:
        seconds = parse_iso(text)
    except ValueError:
        raise _bad(name, f"expected an ISO 8601 time such as 2025-03-01T12:00:00Z, got {text!r}") from None
    return None if seconds is None else int(seconds * 1000)


def _count(request: web.Request, name: str, low: int, high: int) -> int | None:
    text = request.query.get(name)
    if text is None:
        return None
    number = natural(text)
    if number is None or not low <= number <= high:
        raise _bad(name, f"expected an integer between {low} and {high}, got {text!r}")
    return number


def _bad(name: str, message: str) -> web.HTTPError:
    return api_error(web.HTTPBadRequest, f"{name}: {message}")
