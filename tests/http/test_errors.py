"""Every /api error is JSON; an unexpected exception is logged once and never reaches the client."""

import logging

from tests.conftest import RunningHub
from tests.http.helpers import call


async def test_unknown_endpoint__404_json(fakes_hub: RunningHub):
    assert await call(fakes_hub, "GET", "/api/nothing-here") == (
        404,
        {"error": "Not Found: GET /api/nothing-here"},
    )


async def test_wrong_method__405_json_with_allow(fakes_hub: RunningHub):
    async with fakes_hub.http() as session, session.delete("/api/devices") as response:
        assert response.status == 405
        assert await response.json() == {"error": "Method Not Allowed: DELETE /api/devices"}
        assert response.headers["Allow"] == "GET,HEAD"


async def test_unexpected_exception__500_without_traceback_logged_once(
    fakes_hub: RunningHub, monkeypatch, caplog
):
    async def broken(point_ids: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(fakes_hub.hub.poller, "read_now", broken)

    async with (
        fakes_hub.http() as session,
        session.post("/api/points/read", json={"point_ids": ["alpha-1.p0"]}) as response,
    ):
        text = await response.text()
        assert response.status == 500
        assert response.content_type == "application/json"

    assert text == '{"error": "internal error (details in the hub\'s log)"}'
    failures = [r for r in caplog.records if r.exc_info]
    assert len(failures) == 1
    assert failures[0].getMessage() == "POST /api/points/read failed"
    assert failures[0].levelno == logging.ERROR
