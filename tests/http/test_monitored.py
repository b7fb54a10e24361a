"""The monitoring routes over real HTTP with the fake integrations (which cannot monitor found devices)."""

import pytest

from tests.conftest import RunningHub, finished
from tests.http.helpers import call


async def scan_beta(running: RunningHub) -> str:
    """A finished discovery in which beta found the device beta-new (not registered)."""
    beta = running.fake("beta")
    beta.play(beta.new_device("new"), None)
    _, started = await call(running, "POST", "/api/devices/discover", {"integrations": ["beta"]})
    await finished(running.hub.discovery, started["operation_id"])
    return started["operation_id"]


REFUSED = "the beta integration cannot add discovered devices: add it to integrations.beta in the config"


async def test_add__an_integration_that_cannot_monitor_is_refused_with_the_reason(fakes_hub: RunningHub):
    operation_id = await scan_beta(fakes_hub)
    body = {"device_id": "beta-new", "operation_id": operation_id}
    assert await call(fakes_hub, "POST", "/api/devices/monitored", body, user="operator") == (
        409,
        {"error": REFUSED},
    )
    assert await call(fakes_hub, "GET", "/api/devices/monitored") == (200, {"devices": []})
    async with fakes_hub.http("operator") as http, http.get(f"/discovery?operation={operation_id}") as page:
        html = await page.text()
    assert f"not monitored: {REFUSED}" in html
    assert "Add to monitoring" not in html
    form = {"device_id": "beta-new"}
    async with fakes_hub.http("operator") as http, http.post("/discovery/monitor", data=form) as answer:
        assert (answer.status, await answer.text()) == (
            409,
            f'<div class="message error" role="alert">{REFUSED}</div>',
        )


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 422, "device_id: required"),
        ({"device_id": 7}, 422, "device_id: expected a non-empty string"),
        ({"device_id": "x", "colour": "red"}, 422, "colour: unknown field"),
        (
            {"device_id": "beta-1"},
            404,
            "device 'beta-1' is not in any kept discovery result: scan for it first",
        ),
    ],
)
async def test_add__a_bad_body_names_the_field(fakes_hub: RunningHub, body, status, error):
    assert await call(fakes_hub, "POST", "/api/devices/monitored", body, user="operator") == (
        status,
        {"error": error},
    )


async def test_routes__viewers_read_operators_change(fakes_hub: RunningHub):
    assert (await call(fakes_hub, "GET", "/api/devices/monitored", user="viewer"))[0] == 200
    for method, path in [("POST", "/api/devices/monitored"), ("DELETE", "/api/devices/monitored/beta-1")]:
        status, _ = await call(fakes_hub, method, path, {"device_id": "beta-1"}, user="viewer")
        assert status == 403, (method, path)
    status, answer = await call(fakes_hub, "DELETE", "/api/devices/monitored/beta-1", user="operator")
    assert (status, answer) == (
        404,
        {"error": "device beta-1 is in the config, not added from discovery: remove it there"},
    )
