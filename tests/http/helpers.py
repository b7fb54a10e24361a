"""Calling the REST API of a RunningHub over real HTTP."""

from typing import Any

from tests.conftest import RunningHub

ABSENT = object()  # no body at all (as opposed to JSON null)


async def call(
    running: RunningHub,
    method: str,
    path: str,
    body: Any = ABSENT,
    *,
    user: str | None = "admin",
    data: bytes | None = None,
) -> tuple[int, Any]:
    """Status and decoded JSON of one request as `user` (a JSON `body`, or raw `data`)."""
    options: dict[str, Any] = {"data": data} if data is not None else {}
    if body is not ABSENT:
        options["json"] = body
    async with running.http(user) as session, session.request(method, path, **options) as response:
        assert response.content_type == "application/json", await response.text()
        return response.status, await response.json()
