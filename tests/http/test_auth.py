"""Logging in and out, session cookies, CSRF, API tokens, lockout, and what an anonymous caller gets."""

import logging
import sqlite3
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from hub.auth.sessions import Sessions
from hub.http.auth import CSRF_HEADER, SESSION_COOKIE
from tests.auth.helpers import cookie_of, login, send, session_headers
from tests.conftest import HUB_USERS, RunningHub, StartHub, add_hub_users, make_config

ADMIN_PASSWORD = HUB_USERS["admin"][1]


async def test_anonymous_api_call__401_json_with_a_bearer_challenge(fakes_hub: RunningHub):
    answer = await send(fakes_hub, "GET", "/api/devices")
    assert (answer.status, answer.body) == (401, {"error": "authentication required"})
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="BMS Hub"'
    assert (await send(fakes_hub, "GET", "/api/no-such-endpoint")).status == 401  # unknown paths too


async def test_anonymous_page__sent_to_the_login_form_with_next(fakes_hub: RunningHub):
    answer = await send(fakes_hub, "GET", "/devices?sort=name", headers={"Accept": "text/html"})
    assert answer.status == 303
    location = URL(answer.headers["Location"])
    assert (location.path, location.query["next"]) == ("/login", "/devices?sort=name")
    login_page = await send(fakes_hub, "GET", "/login?next=/devices", headers={"Accept": "text/html"})
    assert login_page.status == 200
    assert 'name="csrf_token"' in login_page.body
    assert 'value="/devices"' in login_page.body


async def test_public_routes_need_nobody(fakes_hub: RunningHub):
    assert (await send(fakes_hub, "GET", "/api/health")).status == 200
    assert (await send(fakes_hub, "GET", "/static/vendor/htmx.min.js")).status == 200


async def test_login__session_cookie_is_httponly_strict_and_me_knows_the_user(fakes_hub: RunningHub):
    answer = await send(
        fakes_hub, "POST", "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert answer.status == 200
    assert answer.body["user"] == "admin"
    assert answer.body["role"] == "admin"
    (set_cookie,) = answer.headers.getall("Set-Cookie")
    assert "HttpOnly" in set_cookie
    assert "SameSite=Strict" in set_cookie
    assert "Path=/" in set_cookie
    assert "Secure" not in set_cookie  # plain HTTP here; see the next test
    headers = session_headers(cookie_of(answer, SESSION_COOKIE), None)
    me = await send(fakes_hub, "GET", "/api/auth/me", headers=headers)
    assert me.body["user"] == "admin"
    assert me.body["kind"] == "session"
    assert me.body["csrf_token"] == answer.body["csrf_token"]


async def test_login_behind_a_tls_proxy__the_cookie_is_secure(fakes_hub: RunningHub):
    body = {"username": "admin", "password": ADMIN_PASSWORD}
    answer = await send(
        fakes_hub, "POST", "/api/auth/login", json=body, headers={"X-Forwarded-Proto": "https"}
    )
    assert "Secure" in answer.headers["Set-Cookie"]


async def test_login_form_needs_json(fakes_hub: RunningHub):
    answer = await send(fakes_hub, "POST", "/api/auth/login", data={"username": "admin", "password": "x"})
    assert answer.status == 415


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"username": "admin"}, "password: required"),
        ({"username": "", "password": "x"}, "username: expected a non-empty string"),
        ({"username": "admin", "password": "x", "remember": True}, "remember: unknown field"),
    ],
)
async def test_login__invalid_body(fakes_hub: RunningHub, body, error):
    answer = await send(fakes_hub, "POST", "/api/auth/login", json=body)
    assert (answer.status, answer.body) == (422, {"error": error})


async def test_wrong_password__401_not_logged_and_audited(fakes_hub: RunningHub, caplog):
    caplog.set_level(logging.DEBUG)
    body = {"username": "admin", "password": "guess-pw-123"}
    answer = await send(fakes_hub, "POST", "/api/auth/login", json=body)
    assert (answer.status, answer.body) == (401, {"error": "wrong user name or password"})
    unknown = await send(fakes_hub, "POST", "/api/auth/login", json={"username": "mallory", "password": "x"})
    assert unknown.body == answer.body  # the same answer: user names are not revealed
    assert "guess-pw-123" not in caplog.text
    events = await fakes_hub.hub.auth.audit.page(_kind("auth.login_failed"))
    assert [(e.subject, e.data["remote"]) for e in events] == [
        ("mallory", "127.0.0.1"),
        ("admin", "127.0.0.1"),
    ]


def _kind(kind: str):
    from hub.auth.audit import AuditQuery

    return AuditQuery(kind=kind)


async def test_lockout__after_repeated_failures_even_the_right_password_is_refused(fakes_hub: RunningHub):
    failures = fakes_hub.hub.config.auth.lockout_failures
    wrong = {"username": "admin", "password": "not-the-password"}
    statuses = [
        (await send(fakes_hub, "POST", "/api/auth/login", json=wrong)).status for _ in range(failures)
    ]
    assert statuses == [401] * failures

    right = await send(
        fakes_hub, "POST", "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert right.status == 429
    assert right.body["error"].startswith("too many failed logins: try again in")
    assert int(right.headers["Retry-After"]) > 0
    assert await fakes_hub.hub.auth.audit.page(_kind("auth.locked_out"))
    async with fakes_hub.client("websockets", user="admin", identifier="machine"):
        pass  # the config's MQTT user `admin` (a machine, checked first) is not locked with the person

    # The admin at another PC (another loopback address here) still logs in.
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with (
        aiohttp.ClientSession(connector=connector) as other_pc,
        other_pc.post(
            f"http://127.0.0.1:{fakes_hub.http_port}/api/auth/login",
            json={"username": "admin", "password": ADMIN_PASSWORD},
        ) as answer,
    ):
        assert answer.status == 200


async def test_csrf__a_session_write_without_the_token_is_refused(fakes_hub: RunningHub):
    headers = await login(fakes_hub, "admin", ADMIN_PASSWORD)
    token = headers.pop(CSRF_HEADER)
    body = {"point_ids": ["alpha-1.p0"]}

    refused = await send(fakes_hub, "POST", "/api/points/read", json=body, headers=headers)
    assert refused.status == 403
    assert refused.body == {"error": f"missing or wrong CSRF token (send the {CSRF_HEADER} header)"}
    wrong = await send(
        fakes_hub, "POST", "/api/points/read", json=body, headers={**headers, CSRF_HEADER: "x"}
    )
    assert wrong.status == 403
    accepted = await send(
        fakes_hub, "POST", "/api/points/read", json=body, headers={**headers, CSRF_HEADER: token}
    )
    assert accepted.status == 200
    assert (await send(fakes_hub, "GET", "/api/devices", headers=headers)).status == 200  # reads need none


async def test_csrf__a_form_may_carry_the_token_in_a_field(fakes_hub: RunningHub):
    headers = await login(fakes_hub, "admin", ADMIN_PASSWORD)
    token = headers.pop(CSRF_HEADER)
    refused = await send(fakes_hub, "POST", "/logout", headers=headers, data={})
    assert refused.status == 403
    answer = await send(fakes_hub, "POST", "/logout", headers=headers, data={"csrf_token": token})
    assert answer.status == 200
    assert "Logged out" in answer.body
    assert (await send(fakes_hub, "GET", "/api/auth/me", headers=headers)).status == 401


async def test_logout__ends_the_session(fakes_hub: RunningHub):
    headers = await login(fakes_hub, "admin", ADMIN_PASSWORD)
    answer = await send(fakes_hub, "POST", "/api/auth/logout", headers=headers)
    assert answer.body == {"logged_out": "admin"}
    assert f'{SESSION_COOKIE}=""' in answer.headers["Set-Cookie"]
    assert (await send(fakes_hub, "GET", "/api/auth/me", headers=headers)).status == 401


async def test_sessions_survive_a_restart__not_a_logout_nor_a_user_changed_meanwhile(
    start_hub: StartHub, tmp_path: Path
):
    config = make_config(tmp_path)
    first = await start_hub(config)
    await add_hub_users(first.hub)
    kept = await login(first, "admin", ADMIN_PASSWORD)
    logged_out = await login(first, "viewer", HUB_USERS["viewer"][1])
    changed = await login(first, "operator", HUB_USERS["operator"][1])
    assert (await send(first, "POST", "/api/auth/logout", headers=logged_out)).status == 200
    await first.server.close()
    # The operator's password changed while the hub was stopped (a backup restored, say).
    with sqlite3.connect(config.data_dir / "hub.db") as db:
        db.execute("UPDATE users SET updated_ms = updated_ms + 86400000 WHERE name = 'operator'")

    second = await start_hub(config)
    me = await send(second, "GET", "/api/auth/me", headers=kept)
    assert (me.status, me.body["user"], me.body["csrf_token"]) == (200, "admin", kept[CSRF_HEADER])
    assert (await send(second, "POST", "/api/auth/mqtt-credentials", headers=kept)).status == 200  # CSRF
    assert (await send(second, "GET", "/api/auth/me", headers=logged_out)).status == 401
    assert (await send(second, "GET", "/api/auth/me", headers=changed)).status == 401


async def test_session_expiry__idle_and_absolute_over_http(fakes_hub: RunningHub):
    now = [1_000_000.0]
    fakes_hub.hub.auth.sessions = Sessions(60, 100, fakes_hub.hub.store, clock=lambda: now[0])
    headers = await login(fakes_hub, "admin", ADMIN_PASSWORD)
    now[0] += 59
    assert (await send(fakes_hub, "GET", "/api/auth/me", headers=headers)).status == 200
    now[0] += 40  # 99 s after login, 40 s idle
    assert (await send(fakes_hub, "GET", "/api/auth/me", headers=headers)).status == 200
    now[0] += 1  # the maximum age
    assert (await send(fakes_hub, "GET", "/api/auth/me", headers=headers)).status == 401

    idle = await login(fakes_hub, "admin", ADMIN_PASSWORD)
    now[0] += 60
    assert (await send(fakes_hub, "GET", "/api/auth/me", headers=idle)).status == 401


async def test_login_form__redirects_to_next_and_refuses_a_forged_post(fakes_hub: RunningHub):
    await add_hub_users(fakes_hub.hub)
    page = await send(fakes_hub, "GET", "/login?next=/devices")
    form_cookie = cookie_of(page, "bms_hub_form")
    form = {"username": "viewer", "password": HUB_USERS["viewer"][1], "next": "//evil.example/x"}

    forged = await send(
        fakes_hub,
        "POST",
        "/login",
        data={**form, "csrf_token": "guess"},
        headers={"Cookie": f"bms_hub_form={form_cookie}"},
    )
    assert forged.status == 400
    assert SESSION_COOKIE not in forged.headers.get("Set-Cookie", "")

    answer = await send(
        fakes_hub,
        "POST",
        "/login",
        data={**form, "csrf_token": form_cookie},
        headers={"Cookie": f"bms_hub_form={form_cookie}"},
    )
    assert answer.status == 303
    assert answer.headers["Location"] == "/"  # never to another site
    me = await send(
        fakes_hub, "GET", "/api/auth/me", headers=session_headers(cookie_of(answer, SESSION_COOKIE), None)
    )
    assert me.body["role"] == "viewer"


async def test_login_form__a_wrong_password_shows_the_form_again(fakes_hub: RunningHub):
    page = await send(fakes_hub, "GET", "/login")
    form_cookie = cookie_of(page, "bms_hub_form")
    form = {"username": "admin", "password": "wrong-password", "csrf_token": form_cookie}
    answer = await send(
        fakes_hub, "POST", "/login", data=form, headers={"Cookie": f"bms_hub_form={form_cookie}"}
    )
    assert answer.status == 401
    assert "wrong user name or password" in answer.body
    assert "wrong-password" not in answer.body


async def test_api_token__bearer_works_a_bad_or_other_scheme_is_401(fakes_hub: RunningHub):
    _, secret = await fakes_hub.hub.auth.users.create_token("scada", _role("viewer"), "admin")
    ok = await send(fakes_hub, "GET", "/api/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert ok.body == {"user": "token:scada", "role": "viewer", "kind": "token"}
    bad = await send(fakes_hub, "GET", "/api/auth/me", headers={"Authorization": "Bearer bmsh_nope"})
    assert (bad.status, bad.body) == (401, {"error": "unknown or revoked API token"})
    basic = await send(fakes_hub, "GET", "/api/auth/me", headers={"Authorization": "Basic YWRtaW46eA=="})
    assert (basic.status, basic.body) == (401, {"error": "expected Authorization: Bearer <API token>"})


def _role(name: str):
    from hub.auth.roles import Role

    return Role(name)


async def test_pages_of_a_session_give_htmx_its_csrf_header(fakes_hub: RunningHub):
    headers = await login(fakes_hub, "admin", ADMIN_PASSWORD)
    page = await send(fakes_hub, "GET", "/", headers={"Cookie": headers["Cookie"], "Accept": "text/html"})
    assert page.status == 200
    (body_tag,) = [line for line in page.body.splitlines() if "<body hx-headers=" in line]
    assert f'"{CSRF_HEADER}": "{headers[CSRF_HEADER]}"' in body_tag
