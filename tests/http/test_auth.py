"""HTTP Basic authentication: every route but /api/health and /mqtt needs one of the configured users."""

import logging

import pytest

from tests.conftest import RunningHub
from tests.http.helpers import call

PROTECTED = [
    ("GET", "/api/devices"),
    ("GET", "/api/devices/alpha-1"),
    ("GET", "/api/devices/alpha-1/objects"),
    ("POST", "/api/devices/discover"),
    ("GET", "/api/devices/discover"),
    ("GET", "/api/devices/discover/some-id"),
    ("POST", "/api/devices/discover/some-id/cancel"),
    ("POST", "/api/points/read"),
    ("POST", "/api/points/write"),
    ("GET", "/api/points/live"),
    ("GET", "/api/data/latest"),
    ("GET", "/api/integrations"),
    ("GET", "/api/no-such-endpoint"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_without_credentials__401_with_a_challenge(fakes_hub: RunningHub, method, path):
    async with fakes_hub.http(user=None) as session, session.request(method, path) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == 'Basic realm="BMS Hub", charset="UTF-8"'
        assert await response.json() == {"error": "authentication required (HTTP Basic)"}


async def test_wrong_password__401_and_the_password_is_not_logged(fakes_hub: RunningHub, caplog):
    caplog.set_level(logging.DEBUG)
    status, body = await call(fakes_hub, "GET", "/api/devices", user="admin", password="guess-pw-123")
    assert (status, body) == (401, {"error": "wrong username or password"})
    assert "guess-pw-123" not in caplog.text
    assert "refused HTTP credentials from 127.0.0.1 (GET /api/devices)" in caplog.text


async def test_unknown_user__401(fakes_hub: RunningHub):
    assert (await call(fakes_hub, "GET", "/api/devices", user="mallory", password="x"))[0] == 401


@pytest.mark.parametrize("header", ["Bearer abc", "Basic !!!", "Basic bm9jb2xvbg==", "Basic"])
async def test_malformed_authorization__401(fakes_hub: RunningHub, header):
    headers = {"Authorization": header}
    async with fakes_hub.http(user=None) as session, session.get("/api/devices", headers=headers) as response:
        assert response.status == 401
        assert await response.json() == {"error": "malformed Authorization header"}


@pytest.mark.parametrize("user", ["admin", "alice"])
async def test_any_configured_user_gets_in(fakes_hub: RunningHub, user):
    status, body = await call(fakes_hub, "GET", "/api/devices", user=user)
    assert status == 200
    assert [device["id"] for device in body["devices"]] == ["alpha-1", "alpha-2", "beta-1"]


async def test_health_stays_public(fakes_hub: RunningHub):
    status, body = await call(fakes_hub, "GET", "/api/health", user=None)
    assert status == 200
    assert body["status"] == "ok"


async def test_mqtt_websocket_is_left_to_the_broker(fakes_hub: RunningHub):
    async with fakes_hub.client("websockets", identifier="no-http-auth") as client:
        await client.publish("site/probe", b"1", qos=1)  # connected with MQTT credentials only
