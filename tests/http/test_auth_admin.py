"""Admins manage users and API tokens and read the audit log (JSON pages and CSV)."""

import csv
import io
import json

import pytest

from hub.auth.audit import events_csv
from hub.http.auth import CSRF_HEADER
from hub.store_tables import StoredEvent
from tests.auth.helpers import login, send
from tests.conftest import RunningHub
from tests.http.helpers import call


async def test_users__add_list_get_change_delete(fakes_hub: RunningHub):
    status, added = await call(
        fakes_hub, "POST", "/api/users", {"name": "otto", "role": "operator", "password": "otto-password-1"}
    )
    assert status == 201
    assert (added["name"], added["role"]) == ("otto", "operator")
    assert "password" not in str(added)
    _, listed = await call(fakes_hub, "GET", "/api/users")
    assert [(u["name"], u["role"]) for u in listed["users"]] == [("admin", "admin"), ("otto", "operator")]

    otto = await login(fakes_hub, "otto", "otto-password-1")
    status, changed = await call(fakes_hub, "PATCH", "/api/users/otto", {"role": "viewer"})
    assert (status, changed["role"]) == (200, "viewer")
    assert (await send(fakes_hub, "GET", "/api/auth/me", headers=otto)).status == 401, (
        "a change ends their sessions"
    )
    assert (await call(fakes_hub, "GET", "/api/users/otto"))[1]["role"] == "viewer"

    assert await call(fakes_hub, "DELETE", "/api/users/otto") == (200, {"deleted": "otto"})
    assert await call(fakes_hub, "GET", "/api/users/otto") == (404, {"error": "unknown user 'otto'"})


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (
            {"name": "admin", "role": "viewer", "password": "long-enough-1"},
            409,
            "name: a user 'admin' exists already",
        ),
        (
            {"name": "a b", "role": "viewer", "password": "long-enough-1"},
            422,
            "name: expected 1 to 64 letters, digits, '_', '.', '@' or '-'",
        ),
        (
            {"name": "ann", "role": "root", "password": "long-enough-1"},
            422,
            "role: expected one of viewer, operator, admin",
        ),
        (
            {"name": "ann", "role": "viewer", "password": "short"},
            422,
            "password: expected 10 to 1024 characters",
        ),
        ({"name": "ann", "role": "viewer"}, 422, "password: required"),
    ],
)
async def test_users__add_invalid(fakes_hub: RunningHub, body, status, error):
    assert await call(fakes_hub, "POST", "/api/users", body) == (status, {"error": error})
    assert [u["name"] for u in (await call(fakes_hub, "GET", "/api/users"))[1]["users"]] == ["admin"]


async def test_users__a_change_names_what_changes(fakes_hub: RunningHub):
    assert await call(fakes_hub, "PATCH", "/api/users/admin", {}) == (
        422,
        {"error": "body: expected role and/or password"},
    )
    assert await call(fakes_hub, "PATCH", "/api/users/nobody", {"role": "viewer"}) == (
        404,
        {"error": "unknown user 'nobody'"},
    )


async def test_users__the_last_admin_can_be_neither_deleted_nor_demoted(fakes_hub: RunningHub):
    refused = (409, {"error": "'admin' is the last admin: make another admin first"})
    assert await call(fakes_hub, "DELETE", "/api/users/admin") == refused
    assert await call(fakes_hub, "PATCH", "/api/users/admin", {"role": "operator"}) == refused
    await call(
        fakes_hub, "POST", "/api/users", {"name": "ada", "role": "admin", "password": "ada-password-1"}
    )
    assert (await call(fakes_hub, "PATCH", "/api/users/admin", {"role": "operator"}))[0] == 200


async def test_users__the_last_admin_may_change_their_password(fakes_hub: RunningHub):
    """A password change keeps the role: it was refused as if it demoted the last admin."""
    status, changed = await call(fakes_hub, "PATCH", "/api/users/admin", {"password": "new-admin-password"})
    assert (status, changed["role"]) == (200, "admin")
    await login(fakes_hub, "admin", "new-admin-password")


async def test_users__a_new_password_works_and_the_old_one_no_longer(fakes_hub: RunningHub):
    await call(
        fakes_hub, "POST", "/api/users", {"name": "vera", "role": "viewer", "password": "vera-password-1"}
    )
    assert (await call(fakes_hub, "PATCH", "/api/users/vera", {"password": "vera-password-2"}))[0] == 200
    body = {"username": "vera", "password": "vera-password-1"}
    assert (await send(fakes_hub, "POST", "/api/auth/login", json=body)).status == 401
    await login(fakes_hub, "vera", "vera-password-2")


async def test_tokens__shown_once_scoped_by_role_last_used_and_revocable(fakes_hub: RunningHub):
    status, created = await call(fakes_hub, "POST", "/api/tokens", {"name": "scada", "role": "viewer"})
    assert status == 201
    secret = created["token"]
    assert secret.startswith("bmsh_")
    assert created["last_used_at"] is None
    _, listed = await call(fakes_hub, "GET", "/api/tokens")
    assert secret not in str(listed)
    assert [(t["name"], t["role"], t["created_by"]) for t in listed["tokens"]] == [
        ("scada", "viewer", "admin")
    ]

    bearer = {"Authorization": f"Bearer {secret}"}
    assert (await send(fakes_hub, "GET", "/api/devices", headers=bearer)).status == 200
    write = {"point_id": "alpha-1.setpoint", "value": 1}
    denied = await send(fakes_hub, "POST", "/api/points/write", json=write, headers=bearer)
    assert (denied.status, denied.body) == (
        403,
        {"error": "forbidden: needs the operator role, you are viewer"},
    )
    (token,) = (await call(fakes_hub, "GET", "/api/tokens"))[1]["tokens"]
    assert token["last_used_at"] is not None

    status, revoked = await call(fakes_hub, "DELETE", f"/api/tokens/{created['id']}")
    assert status == 200
    assert revoked["revoked_at"] is not None
    assert (await send(fakes_hub, "GET", "/api/devices", headers=bearer)).status == 401
    assert await call(fakes_hub, "DELETE", "/api/tokens/999") == (404, {"error": "unknown token '999'"})


@pytest.mark.parametrize("token_id", ["%C2%B2", "9" * 30])
async def test_tokens__an_id_that_is_no_integer_is_unknown(fakes_hub: RunningHub, token_id):
    """'²' passes str.isdigit and 30 digits overflow SQLite: both were a 500."""
    status, body = await call(fakes_hub, "DELETE", f"/api/tokens/{token_id}")
    assert status == 404
    assert body["error"].startswith("unknown token")


async def test_tokens__need_no_csrf_and_act_with_their_role(fakes_hub: RunningHub):
    _, created = await call(fakes_hub, "POST", "/api/tokens", {"name": "node-red", "role": "operator"})
    bearer = {"Authorization": f"Bearer {created['token']}"}
    answer = await send(
        fakes_hub, "POST", "/api/points/read", json={"point_ids": ["alpha-1.p0"]}, headers=bearer
    )
    assert answer.status == 200
    assert (await send(fakes_hub, "GET", "/api/users", headers=bearer)).status == 403


async def test_audit__logins_user_and_token_changes_with_who_and_from_where(fakes_hub: RunningHub):
    await login(fakes_hub, "admin", "admin-password")
    await send(fakes_hub, "POST", "/api/auth/login", json={"username": "admin", "password": "wrong-password"})
    await call(
        fakes_hub, "POST", "/api/users", {"name": "otto", "role": "operator", "password": "otto-password-1"}
    )
    await call(fakes_hub, "POST", "/api/tokens", {"name": "scada", "role": "viewer"})

    status, page = await call(fakes_hub, "GET", "/api/audit")
    assert status == 200
    kinds = [(e["kind"], e["subject"], e["actor"]) for e in page["events"]]
    assert kinds[:4] == [
        ("auth.token_created", "1", "admin"),
        ("auth.user_added", "otto", "admin"),
        ("auth.login_failed", "admin", "admin"),
        ("auth.login", "admin", "admin"),
    ]
    assert {e["remote"] for e in page["events"][:4]} == {"127.0.0.1"}
    assert "otto-password-1" not in str(page)

    _, only = await call(fakes_hub, "GET", "/api/audit?kind=auth.user_added&actor=admin")
    assert [e["subject"] for e in only["events"]] == ["otto"]


async def test_audit__paged_newest_first_and_time_filtered(fakes_hub: RunningHub):
    for name in ("a1", "a2", "a3"):
        await call(
            fakes_hub, "POST", "/api/users", {"name": name, "role": "viewer", "password": "long-enough-1"}
        )
    _, first = await call(fakes_hub, "GET", "/api/audit?kind=auth.user_added&actor=admin&limit=2")
    assert [e["subject"] for e in first["events"]] == ["a3", "a2"]
    _, second = await call(
        fakes_hub, "GET", f"/api/audit?kind=auth.user_added&actor=admin&limit=2&before={first['next_before']}"
    )
    assert [e["subject"] for e in second["events"]] == ["a1"]
    assert second["next_before"] is None
    _, none = await call(fakes_hub, "GET", "/api/audit?since=2100-01-01T00:00:00Z")
    assert none["events"] == []


async def test_audit__includes_point_writes_with_their_actor(fakes_hub: RunningHub):
    await call(
        fakes_hub,
        "POST",
        "/api/points/write",
        {"point_id": "alpha-1.setpoint", "value": 21.5},
        user="operator",
    )
    assert await fakes_hub.hub.store.flush()
    _, page = await call(fakes_hub, "GET", "/api/audit?kind=audit&actor=operator")
    assert [(e["subject"], e["data"]["new"]) for e in page["events"]] == [("alpha-1.setpoint", 21.5)]


async def test_audit__csv_export(fakes_hub: RunningHub):
    await call(fakes_hub, "POST", "/api/tokens", {"name": "scada", "role": "viewer"})
    async with fakes_hub.http() as session, session.get("/api/audit?format=csv") as response:
        assert response.status == 200
        assert response.content_type == "text/csv"
        rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0] == ["id", "time", "kind", "subject", "actor", "remote", "data"]
    assert rows[1][2:6] == ["auth.token_created", "1", "admin", "127.0.0.1"]
    assert json.loads(rows[1][6])["name"] == "scada"


def test_audit_csv__cells_a_spreadsheet_would_run_are_defused():
    event = StoredEvent(1, 0.0, "auth.user_added", '=HYPERLINK("x")', {"actor": "@evil", "remote": None})
    rows = list(csv.reader(io.StringIO(events_csv([event]))))
    assert rows[1][3:5] == ['\'=HYPERLINK("x")', "'@evil"]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("limit=0", "limit: expected an integer between 1 and 1000, got '0'"),
        ("before=x", "before: expected an integer between 1 and 9223372036854775807, got 'x'"),
        # str.isdigit passes these, int() or SQLite would not: each was a 500.
        ("before=%C2%B2", "before: expected an integer between 1 and 9223372036854775807, got '²'"),
        (
            "before=9223372036854775808",
            "before: expected an integer between 1 and 9223372036854775807, got '9223372036854775808'",
        ),
        ("limit=%C2%B2", "limit: expected an integer between 1 and 1000, got '²'"),
        ("since=yesterday", "since: expected an ISO 8601 time such as 2025-03-01T12:00:00Z, got 'yesterday'"),
        ("format=xml", "format: expected json or csv, got 'xml'"),
    ],
)
async def test_audit__invalid_query(fakes_hub: RunningHub, query, error):
    assert await call(fakes_hub, "GET", f"/api/audit?{query}") == (400, {"error": error})


async def test_admin_routes_refuse_a_session_without_csrf(fakes_hub: RunningHub):
    headers = await login(fakes_hub, "admin", "admin-password")
    del headers[CSRF_HEADER]
    body = {"name": "x1", "role": "viewer", "password": "long-enough-1"}
    assert (await send(fakes_hub, "POST", "/api/users", json=body, headers=headers)).status == 403
