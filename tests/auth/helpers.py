"""Logging in to a RunningHub over real HTTP, and requests with explicit headers."""

import re
from dataclasses import dataclass
from typing import Any

import aiohttp
import aiomqtt
from aiohttp import web
from multidict import CIMultiDictProxy

from hub.http.auth import CSRF_HEADER, SESSION_COOKIE
from tests.conftest import RunningHub


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # decoded JSON, or the text
    headers: CIMultiDictProxy[str]


async def send(
    running: RunningHub,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    json: Any = None,
    data: Any = None,
) -> Answer:
    """One request with exactly these headers (no cookie jar), redirects not followed."""
    url = f"http://127.0.0.1:{running.http_port}{path}"
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session,
        session.request(
            method, url, headers=headers, json=json, data=data, allow_redirects=False
        ) as response,
    ):
        body = await response.json() if response.content_type == "application/json" else await response.text()
        return Answer(response.status, body, response.headers)


def cookie_of(answer: Answer, name: str) -> str:
    """The value a Set-Cookie header of `answer` gives `name`."""
    for header in answer.headers.getall("Set-Cookie", []):
        if header.startswith(f"{name}="):
            return header.split(";", 1)[0].split("=", 1)[1]
    raise AssertionError(f"no {name} cookie in {answer.headers}")


def session_headers(session_id: str, csrf_token: str | None) -> dict[str, str]:
    headers = {"Cookie": f"{SESSION_COOKIE}={session_id}"}
    if csrf_token is not None:
        headers[CSRF_HEADER] = csrf_token
    return headers


async def login(running: RunningHub, user: str, password: str) -> dict[str, str]:
    """Log in through POST /api/auth/login; the headers a page of that session sends (cookie, CSRF)."""
    answer = await send(running, "POST", "/api/auth/login", json={"username": user, "password": password})
    assert answer.status == 200, answer.body
    return session_headers(cookie_of(answer, SESSION_COOKIE), answer.body["csrf_token"])


def mqtt_client(
    running: RunningHub, username: str | None, password: str | None, **kwargs: Any
) -> aiomqtt.Client:
    """An aiomqtt client over /mqtt (WebSocket on the HTTP port) with these credentials."""
    return aiomqtt.Client(
        "127.0.0.1",
        running.http_port,
        transport="websockets",
        websocket_path="/mqtt",
        username=username,
        password=password,
        timeout=10,
        **kwargs,
    )


EXAMPLE_PATHS = {"/static": "/static/vendor/htmx.min.js"}  # a resource that serves a whole folder


def registered(running: RunningHub) -> list[tuple[str, str, str]]:
    """(method, canonical path, a path it answers) of every route; HEAD follows GET, so it is left out."""
    app = running.server.app
    assert app is not None
    found = {
        (route.method, route.resource.canonical, example_path(route.resource))
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    return sorted(found)


def example_path(resource: web.AbstractResource) -> str:
    """A path the resource matches: each variable gets `x`, or the first choice its pattern allows."""
    if resource.canonical in EXAMPLE_PATHS:
        return EXAMPLE_PATHS[resource.canonical]
    info = resource.get_info()
    if "pattern" not in info:
        return resource.canonical
    values = {
        name: body.split("|")[0] if re.fullmatch(r"[\w|-]+", body) else "x"
        for name, body in re.findall(r"\(\?P<(\w+)>([^)]*)\)", info["pattern"].pattern)
    }
    path = info["formatter"].format(**values)
    assert info["pattern"].fullmatch(path), f"no example path for {resource.canonical}"
    return path
