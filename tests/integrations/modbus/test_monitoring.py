"""A Modbus unit found by a scan has no register map: the hub says why it cannot be added to monitoring."""

import dataclasses
from pathlib import Path

from tests.conftest import StartHub, finished, make_config
from tests.http.helpers import call


async def test_a_scanned_unit_cannot_be_added_and_the_page_says_why(
    start_hub: StartHub, start_sim, tmp_path: Path
):
    sim = await start_sim("--unit", "3")
    running = await start_hub(dataclasses.replace(make_config(tmp_path), integrations={"modbus": {}}))
    address = f"127.0.0.1:{sim.port}"
    body = {"integrations": ["modbus"], "addresses": [address], "low_instance": 2, "high_instance": 4}
    _, started = await call(running, "POST", "/api/devices/discover", body)
    operation = await finished(running.hub.discovery, started["operation_id"])
    [found] = operation.devices
    assert found.device.address == f"{address}/3"

    status, answer = await call(running, "POST", "/api/devices/monitored", {"device_id": found.device.id})
    reason = (
        "the modbus integration cannot add discovered devices: add it to integrations.modbus in the config"
    )
    assert (status, answer) == (409, {"error": reason})
    async with running.http("operator") as http, http.get(f"/discovery?operation={operation.id}") as page:
        html = await page.text()
    assert f"not monitored: {reason}" in html
    assert "Add to monitoring" not in html
