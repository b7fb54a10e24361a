"""Adding a discovered device to monitoring in Chromium: scan, Add to monitoring, live values, remove.

A hub with only the BACnet integration and a real simulated BACnet device in its own process, both
on loopback.
"""

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from hub.config import HubConfig
from tests.conftest import RunningHub
from tests.e2e.conftest import SHARED_LOOP, login, screenshot
from tests.integrations.bacnet.conftest import SimulatedDevice, free_udp_port
from tests.ui_site import ui_config

pytestmark = SHARED_LOOP


@pytest_asyncio.fixture(loop_scope="session")
async def bacnet_device() -> AsyncIterator[SimulatedDevice]:
    """Device 1801: two analog inputs and a commandable analog value (21.0), in its own process."""
    device = SimulatedDevice(
        1801, free_udp_port(), ("--analog-inputs", "2", "--analog-values", "1", "--binary-values", "0")
    )
    await device.start()
    try:
        yield device
    finally:
        await device.kill()


@pytest.fixture
def site_config(tmp_path: Path) -> HubConfig:
    """This module's hub (tests/e2e/conftest.py's ui_hub): only BACnet on loopback, no device configured."""
    raw = {"address": "127.0.0.1/32", "port": free_udp_port(), "timeout": 1, "poll_interval": 0.5}
    return dataclasses.replace(ui_config(tmp_path), integrations={"bacnet": raw})


async def test_monitoring__a_found_device_is_added_polled_live_and_removed(
    page: Page, ui_hub: RunningHub, bacnet_device: SimulatedDevice
):
    page.on("dialog", lambda dialog: dialog.accept())  # the "Stop monitoring ...?" confirmation
    await login(page, "otto")
    await page.goto("/discovery")
    await page.get_by_label("Integration to scan").select_option("bacnet")
    await page.get_by_label("Addresses to probe, separated by spaces or commas").fill(bacnet_device.address)
    await page.get_by_label("Timeout in seconds").fill("10")
    await page.get_by_role("button", name="Scan").click()
    await expect(page.locator("[data-state]")).to_have_attribute("data-state", "completed")
    row = page.locator('tr[data-device="1801"]')
    await row.get_by_text("Choose points (default: all 3)").click()
    await row.get_by_role(
        "checkbox", name="1801.analogInput.2"
    ).uncheck()  # keep only two of the three points
    await screenshot(page, "discovery-add-to-monitoring")
    await row.get_by_role("button", name="Add to monitoring").click()

    await page.wait_for_url("**/devices/1801")
    points = page.get_by_role("table", name="Points of")
    value_row = page.locator('[id="row-1801.analogValue.1"]')
    await expect(page.locator("#live-state")).to_have_text("live")  # the live feed is connected
    await expect(value_row.locator("td.value")).to_have_text("21.00")
    await expect(value_row).to_contain_text("good")
    await expect(points.locator("tbody tr")).to_have_count(2)
    await expect(page.get_by_text("added from discovery by otto")).to_be_visible()
    await screenshot(page, "device-added-from-discovery")
    assert sorted(p.id for p in ui_hub.hub.points.points("1801")) == [
        "1801.analogInput.1",
        "1801.analogValue.1",
    ]

    await page.get_by_role("button", name="Remove from monitoring").click()
    await page.wait_for_url("**/discovery?operation=*")
    await expect(
        page.locator('tr[data-device="1801"]').get_by_role("button", name="Add to monitoring")
    ).to_be_visible()
    assert "1801" not in {device.id for device in ui_hub.hub.points.devices()}
