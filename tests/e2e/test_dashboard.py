"""The dashboard in Chromium: log in, overview, devices, a device's live points, activity."""

import re

from playwright.async_api import Page, expect

from hub.commands import WriteOutcome, WriteRequest
from tests.conftest import RunningHub
from tests.e2e.conftest import SHARED_LOOP, login, screenshot

pytestmark = SHARED_LOOP


async def test_login__then_the_overview_shows_identity_health_and_integrations(
    page: Page, ui_hub: RunningHub
):
    await page.goto("/")
    assert "/login" in page.url  # not logged in: sent to the login form
    await screenshot(page, "login")
    await login(page, "vera")
    await expect(page.get_by_role("heading", name="Site overview")).to_be_visible()
    identity = page.get_by_role("region", name="This hub")
    await expect(identity).to_contain_text("acme")
    await expect(identity).to_contain_text(ui_hub.hub.version)
    await expect(page.get_by_role("table", name="Integrations")).to_contain_text("simulator")
    await expect(page.get_by_role("region", name="broker health")).to_be_visible()
    await screenshot(page, "overview")


async def test_devices__search_narrows_the_list_without_a_reload(page: Page, ui_hub: RunningHub):
    await login(page, "vera")
    await page.goto("/devices")
    devices = [device.id for device in ui_hub.hub.points.devices()]
    rows = page.get_by_role("table", name="Devices").locator("tbody tr")
    await expect(rows).to_have_count(len(devices))
    await expect(rows.first).to_contain_text("online")
    await page.evaluate("window.sameDocument = true")
    await page.get_by_label("Search devices by id or name").fill("vav")
    await expect(rows).to_have_count(sum("vav" in device_id for device_id in devices))
    assert await page.evaluate("window.sameDocument") is True
    assert "q=vav" in page.url  # the filter is in the address, so it can be shared or reloaded
    await screenshot(page, "devices")


async def test_device_page__a_simulated_change_shows_without_a_reload(page: Page, ui_hub: RunningHub):
    await login(page, "vera")
    await page.goto("/devices/vav-1")
    await expect(page.locator("body[data-live=open]")).to_have_count(1)  # the SSE feed is connected
    await page.evaluate("window.sameDocument = true")
    cell = page.locator("[id='row-vav-1.zone_setpoint'] td.value")
    await expect(cell).to_have_text("21.00")  # the demo's relinquish default

    result = await ui_hub.hub.commands.write(WriteRequest("vav-1.zone_setpoint", 23.5, priority=8))
    assert result.outcome == WriteOutcome.WRITTEN

    await expect(cell).to_have_text("23.50")
    assert await page.evaluate("window.sameDocument") is True
    row = page.locator("[id='row-vav-1.zone_setpoint']")
    await expect(row).to_contain_text("fresh")
    await expect(row).to_contain_text("°C")
    await screenshot(page, "device")
    await page.reload()  # the priority arrays are read from the device when the page loads
    await expect(page.get_by_role("region", name="Priority array of zone_setpoint")).to_contain_text(
        "8: 23.50"
    )


async def test_device_page__on_a_phone_the_points_table_becomes_cards_in_the_dark_theme(
    browser, ui_hub: RunningHub
):
    phone = await browser.new_context(
        base_url=f"http://127.0.0.1:{ui_hub.http_port}",
        viewport={"width": 390, "height": 844},
        color_scheme="dark",  # the dark theme follows the system setting
    )
    try:
        page = await phone.new_page()
        await login(page, "vera")
        await page.goto("/devices/ahu-1")
        header = page.get_by_role("table", name="Points of AHU-1").locator("thead")
        await expect(header).to_be_hidden()  # each row is a card whose cells carry their own labels
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing makes the page scroll sideways
        background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(17, 20, 24)"
        await screenshot(page, "device-phone")
    finally:
        await phone.close()


async def test_activity__a_write_is_in_the_audit_log_and_the_type_filter_keeps_it(
    page: Page, ui_hub: RunningHub
):
    hub = ui_hub.hub
    await hub.commands.write(WriteRequest("vav-3.zone_setpoint", 22.0, priority=8, actor="otto"))
    await hub.store.flush()
    await login(page, "vera")
    await page.goto("/activity")
    table = page.get_by_role("table", name="Events, newest first")
    await expect(table).to_contain_text("vav-3.zone_setpoint")
    await page.get_by_label("Event type").select_option("audit")
    await expect(page).to_have_url(re.compile(r"[?&]type=audit"))
    await expect(table.locator("tbody tr").first).to_contain_text("audit")
    await expect(table).to_contain_text("actor: otto")
    await screenshot(page, "activity")
