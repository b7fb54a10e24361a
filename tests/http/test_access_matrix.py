"""Every registered route, as every role and anonymous: the middleware enforces the route table.

The routes come from the running application, so a route another module adds is covered the
moment it is registered, and a route without an entry in hub.http.auth_rules fails here.
"""

import aiohttp
import pytest

from hub.auth.roles import Role
from hub.http.auth import CSRF_HEADER, SESSION_COOKIE
from hub.http.auth_rules import Access, required_access
from tests.auth.helpers import registered
from tests.conftest import RunningHub


async def status_of(running: RunningHub, method: str, path: str, role: Role | None) -> int:
    """The status of one request as a fresh session of `role` (or anonymous); the body is not read."""
    headers = {"Accept": "application/json"}
    if role is not None:
        session, cookie = await running.hub.auth.sessions.create(f"matrix-{role}", role)
        headers |= {"Cookie": f"{SESSION_COOKIE}={cookie}", CSRF_HEADER: session.csrf_token}
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as client,
        client.request(
            method, f"http://127.0.0.1:{running.http_port}{path}", headers=headers, allow_redirects=False
        ) as response,
    ):
        return response.status  # streams (server-sent events) are closed unread


async def test_every_route_has_an_access_rule(fakes_hub: RunningHub):
    missing = [(m, p) for m, p, _ in registered(fakes_hub) if required_access(m, p) is None]
    assert not missing, f"add these routes to hub.http.auth_rules: {missing}"


async def test_access_matrix__every_route_every_role_and_anonymous(fakes_hub: RunningHub):
    wrong = []
    for method, canonical, path in registered(fakes_hub):
        if canonical == "/mqtt":
            continue  # a WebSocket the broker authenticates (tests/mqtt/test_hub_access.py)
        access = required_access(method, canonical)
        assert access is not None
        for role in (None, *Role):
            status = await status_of(fakes_hub, method, path, role)
            if access is Access.PUBLIC:
                allowed = True
            elif role is None:
                allowed = False
                expected = {401}
            else:
                needed = access.role
                assert needed is not None
                allowed = role.allows(needed)
                expected = {403}
            if (allowed and status in (401, 403)) or (not allowed and status not in expected):
                wrong.append(f"{method} {canonical} as {role or 'anonymous'}: {status}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("method", "path", "role", "status"),
    [
        ("POST", "/api/points/write", Role.VIEWER, 403),
        ("POST", "/api/devices/discover", Role.VIEWER, 403),
        ("GET", "/api/users", Role.OPERATOR, 403),
        ("POST", "/api/tokens", Role.OPERATOR, 403),
        ("GET", "/api/audit", Role.OPERATOR, 403),
        ("GET", "/api/audit", Role.ADMIN, 200),
        ("GET", "/api/devices", Role.VIEWER, 200),
        ("POST", "/api/points/read", Role.VIEWER, 422),  # allowed; the missing body is the problem
    ],
)
async def test_access_matrix__spot_checks(fakes_hub: RunningHub, method, path, role, status):
    assert await status_of(fakes_hub, method, path, role) == status
