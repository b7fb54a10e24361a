"""Discovery in Chromium: a scan started from the page, its progress bar, and what it found."""

from playwright.async_api import Page, expect

from tests.conftest import RunningHub
from tests.e2e.conftest import SHARED_LOOP, login, screenshot

pytestmark = SHARED_LOOP


async def test_discovery__a_scan_reaches_100_percent_and_lists_the_devices(page: Page, ui_hub: RunningHub):
    await login(page, "otto")
    await page.goto("/discovery")
    await page.get_by_label("Integration to scan").select_option("simulator")
    await page.get_by_label("Timeout in seconds").fill("5")
    await page.get_by_role("button", name="Scan").click()
    progress = page.locator("progress.discovery-progress")
    await expect(progress).to_have_attribute("value", "100.0")
    operation = page.locator("[data-state]")
    await expect(operation).to_have_attribute("data-state", "completed")
    found = page.get_by_role("table", name="Devices found").locator("tbody tr")
    await expect(found).to_have_count(len(list(ui_hub.hub.points.devices())))
    await expect(found.filter(has_text="vav-2")).to_contain_text("monitored")
    [finished] = ui_hub.hub.discovery.operations()
    assert finished.percent == 100.0
    await screenshot(page, "discovery")


async def test_discovery__a_bad_option_is_named_and_nothing_starts(page: Page, ui_hub: RunningHub):
    await login(page, "otto")
    await page.goto("/discovery")
    await page.get_by_label("Lowest device instance (BACnet)").fill("12")
    await page.get_by_label("Highest device instance (BACnet)").fill("3")
    await page.get_by_role("button", name="Scan").click()
    await expect(page.get_by_role("alert")).to_have_text("high_instance: must not be below low_instance")
    assert ui_hub.hub.discovery.operations() == []
