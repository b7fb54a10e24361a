"""Nothing secret is logged, and no route a non-admin may call returns one."""

import logging

from hub.auth.roles import Role
from hub.http.auth_rules import Access, required_access
from tests.auth.helpers import login, mqtt_client, registered, send
from tests.conftest import RunningHub
from tests.http.helpers import call


async def test_passwords_tokens_cookies_and_credentials_never_reach_the_log(fakes_hub: RunningHub, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = ["otto-password-1", "otto-password-2", "wrong-password-9"]
    await call(fakes_hub, "POST", "/api/users", {"name": "otto", "role": "operator", "password": secrets[0]})
    await call(fakes_hub, "PATCH", "/api/users/otto", {"password": secrets[1]})
    await send(fakes_hub, "POST", "/api/auth/login", json={"username": "otto", "password": secrets[2]})
    session = await login(fakes_hub, "otto", secrets[1])
    secrets += [session["Cookie"].split("=", 1)[1], session["X-CSRF-Token"]]
    _, token = await call(fakes_hub, "POST", "/api/tokens", {"name": "scada", "role": "viewer"})
    secrets.append(token["token"])
    await send(fakes_hub, "GET", "/api/devices", headers={"Authorization": f"Bearer {token['token']}"})
    await send(fakes_hub, "GET", "/api/devices", headers={"Authorization": "Bearer bmsh_guessed-token"})
    secrets.append("bmsh_guessed-token")
    issued = (await send(fakes_hub, "POST", "/api/auth/mqtt-credentials", headers=session)).body
    secrets.append(issued["password"])
    async with mqtt_client(fakes_hub, issued["username"], issued["password"], identifier="browser"):
        pass
    assert await fakes_hub.hub.store.flush()

    leaked = [secret for secret in secrets if secret in caplog.text]
    assert not leaked
    _, audit = await call(fakes_hub, "GET", "/api/audit?limit=1000")
    assert not [secret for secret in secrets if secret in str(audit)]


async def test_no_route_a_viewer_or_operator_may_call_answers_a_secret(fakes_hub: RunningHub):
    _, token = await call(fakes_hub, "POST", "/api/tokens", {"name": "scada", "role": "viewer"})
    secrets = [token["token"], "admin-password", "operator-password", "viewer-password"]
    secrets += [headers["Cookie"].split("=", 1)[1] for headers in fakes_hub.sessions.values()]
    bodies = []
    for method, canonical, path in registered(fakes_hub):
        access = required_access(method, canonical)
        if method != "GET" or access in (None, Access.ADMIN) or canonical == "/mqtt":
            continue
        for user in (Role.VIEWER, Role.OPERATOR):
            async with fakes_hub.http(user) as client, client.get(path) as response:
                if response.content_type != "text/event-stream":
                    bodies.append(await response.text())
    assert bodies
    assert not [secret for secret in secrets for body in bodies if secret in body]


async def test_me_never_shows_the_session_cookie(fakes_hub: RunningHub):
    async with fakes_hub.http("viewer") as client, client.get("/api/auth/me") as response:
        body = await response.text()
    assert fakes_hub.sessions["viewer"]["Cookie"].split("=", 1)[1] not in body
