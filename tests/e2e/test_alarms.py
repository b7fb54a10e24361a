"""The alarm console in Chromium: a real limit alarm on the simulated site, live, acted on, shelved, history.

The alarm is raised by the hub's limit source when the simulator reports a setpoint written past
the limit (tests/alarm_ui_site.py); nothing is injected into the alarm list.
"""

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from hub.alarms.model import Severity
from hub.config import HubConfig
from tests.alarm_ui_site import (
    ALARM_ID,
    PEAK_POINT,
    add_peak_controller,
    alarm_config,
    drive_past_limit,
    reported,
)
from tests.conftest import RunningHub
from tests.e2e.conftest import SHARED_LOOP, login, screenshot
from tests.ui_site import logged_in

pytestmark = SHARED_LOOP

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site_config(tmp_path: Path) -> HubConfig:
    """The alarm site (conftest's ui_hub runs it): a limit rule, status cards, a site time zone."""
    return alarm_config(tmp_path)


async def open_console(page: Page, user: str) -> None:
    """Log in, open the console and wait for its live feed (changes after this are pushed)."""
    await login(page, user)
    await page.goto("/alarms")
    await expect(page.locator("body[data-live=open]")).to_have_count(1)
    await page.evaluate("window.sameDocument = true")


def row(page: Page, alarm_id: str, table: str = "Current alarms") -> Locator:
    return page.get_by_role("table", name=table).locator(f"tr[data-alarm-id='{alarm_id}']")


async def test_console__a_real_alarm_shows_live_with_the_header_count_and_is_acknowledged(
    page: Page, ui_hub: RunningHub
):
    await open_console(page, "otto")
    await expect(page.get_by_role("status").filter(has_text="No active alarms")).to_be_visible()
    counts = page.get_by_role("link", name="Alarms: none. Open the alarm console")
    await expect(counts).to_have_text("No alarms")
    await screenshot(page, "alarms-empty")

    await drive_past_limit(ui_hub.hub)

    alarm = row(page, ALARM_ID)
    await expect(alarm).to_contain_text("active, unacknowledged")
    await expect(alarm).to_contain_text("critical")
    await expect(alarm.get_by_role("link", name="vav-2.zone_setpoint", exact=True)).to_have_attribute(
        "href", "/points/vav-2.zone_setpoint"
    )
    header = page.get_by_role("link", name="Alarms: 1 critical. Open the alarm console")
    await expect(header).to_have_text("1 critical")
    await expect(header).to_have_attribute("href", "/alarms")
    await expect(alarm).to_contain_text("CET")  # times in the site's zone, Europe/Paris
    assert await page.evaluate("window.sameDocument") is True  # no reload

    await alarm.get_by_role("button", name=f"Acknowledge {ALARM_ID}").click()
    await expect(page.locator("#alarm-outcome")).to_contain_text(f"Acknowledged {ALARM_ID}")
    await expect(alarm).to_contain_text("active, acknowledged")
    await expect(alarm.get_by_role("button", name=f"Acknowledge {ALARM_ID}")).to_have_count(0)
    answer = await page.request.get(f"/api/alarms/{ALARM_ID}")  # the same state through REST
    body = await answer.json()
    assert body["state"] == "active_acked"
    assert body["acked_by"] == "otto"
    await screenshot(page, "alarms-console")


async def test_console__shelve_with_a_reason_then_read_the_history(page: Page, ui_hub: RunningHub):
    await drive_past_limit(ui_hub.hub)
    await open_console(page, "otto")
    await row(page, ALARM_ID).get_by_role("button", name=f"More actions on {ALARM_ID}").click()
    panel = page.get_by_role("region", name="Actions on an alarm")
    await panel.get_by_label("Shelve for").select_option(label="4 hours")
    await panel.get_by_role("button", name="Shelve").click()
    assert ui_hub.hub.alarms.get(ALARM_ID).shelved_until is None  # the browser asks for the reason first
    await panel.get_by_label("Reason for shelving").fill("sensor being replaced")
    await panel.get_by_role("button", name="Shelve").click()
    await expect(page.locator("#alarm-outcome")).to_contain_text(f"Shelved {ALARM_ID} until")
    await expect(panel.get_by_role("button", name="Unshelve")).to_be_visible()  # the panel follows
    shelved = row(page, ALARM_ID, table="Shelved")
    await expect(shelved).to_contain_text("sensor being replaced")
    await expect(shelved).to_contain_text("left")
    await expect(page.get_by_role("status").filter(has_text="No other alarm.")).to_be_visible()
    header = page.locator("#alarm-counts")  # a shelved alarm leaves the severity chips
    await expect(header).to_have_attribute("aria-label", "Alarms: 1 shelved. Open the alarm console")
    await screenshot(page, "alarms-shelved")

    await shelved.get_by_role("link", name=f"History of {ALARM_ID}").click()
    await page.wait_for_url(f"**/alarms/{ALARM_ID.replace(':', '%3A')}")
    history = page.get_by_role("table", name=f"History of {ALARM_ID}")
    await expect(history.locator("tbody tr")).to_have_count(2)
    await expect(history.locator("tr[data-kind=shelved]")).to_contain_text("sensor being replaced")
    await expect(history.locator("tr[data-kind=shelved]")).to_contain_text("otto")
    await expect(history.locator("tr[data-kind=raised]")).to_contain_text("28.0")  # the value that raised it
    await expect(page.locator("body[data-live=open]")).to_have_count(1)

    await page.get_by_label("Comment").fill("checked on site")
    await page.get_by_role("button", name="Acknowledge", exact=True).click()
    await expect(history.locator("tr[data-kind=acknowledged]")).to_contain_text("checked on site")
    await expect(page.get_by_role("region", name="Alarm state")).to_contain_text("active, acknowledged")
    await screenshot(page, "alarm-history")


async def test_console__a_viewer_sees_alarms_without_action_buttons(page: Page, ui_hub: RunningHub):
    await drive_past_limit(ui_hub.hub)
    await open_console(page, "vera")
    await expect(row(page, ALARM_ID)).to_contain_text("active, unacknowledged")
    await expect(page.get_by_role("main").get_by_role("button")).to_have_count(0)
    await page.goto(f"/alarms/{ALARM_ID}")
    await expect(page.get_by_role("table", name=f"History of {ALARM_ID}")).to_contain_text("raised")
    await expect(page.get_by_role("main").get_by_role("button")).to_have_count(0)
    await expect(page.get_by_label("Comment")).to_have_count(0)


async def test_console__on_a_phone_rows_become_cards_and_actions_fit(browser: Browser, ui_hub: RunningHub):
    await drive_past_limit(ui_hub.hub)
    ui_hub.hub.alarms.raise_flow_alarm("pumps", "low_pressure", Severity.MINOR, "pump pressure below 1.2 bar")
    phone = await browser.new_context(
        base_url=f"http://127.0.0.1:{ui_hub.http_port}", viewport=PHONE, color_scheme="dark"
    )
    try:
        page = await phone.new_page()
        await open_console(page, "otto")
        table = page.get_by_role("table", name="Current alarms")
        await expect(table.locator("tbody tr")).to_have_count(2)
        await expect(table.locator("thead")).to_be_hidden()  # each alarm is a card with labelled values
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await screenshot(page, "alarms-phone")
        await row(page, ALARM_ID).get_by_role("button", name=f"More actions on {ALARM_ID}").click()
        await expect(page.get_by_label("Reason for shelving")).to_be_visible()
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await screenshot(page, "alarms-phone-actions")
        await page.goto(f"/alarms/{ALARM_ID}")
        await expect(page.get_by_role("table", name=f"History of {ALARM_ID}")).to_contain_text("raised")
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await screenshot(page, "alarm-history-phone")
    finally:
        await phone.close()


async def test_overview__status_cards_show_states_fresh_and_never_reported(page: Page, ui_hub: RunningHub):
    hub = ui_hub.hub
    async with await logged_in(ui_hub, "ada") as admin:
        await add_peak_controller(admin)
    await reported(hub, "ahu-1.fan_status", "vav-1.occupancy_mode")
    await login(page, "vera")
    await page.goto("/")
    plant = page.get_by_role("region", name="Plant")
    await expect(plant.locator("li[data-point='vav-1.occupancy_mode'] .line-state")).to_have_text("Occupied")
    fan = plant.locator("li[data-point='ahu-1.fan_status'] .line-state")
    await expect(fan).to_have_text(re.compile("^(ON|OFF)$"))
    await expect(plant.locator("li[data-freshness=fresh]")).to_have_count(2)
    await expect(plant).to_contain_text("updated")
    peak = page.get_by_role("region", name="Peak shaving")
    await expect(peak.locator(f"li[data-point='{PEAK_POINT}']")).to_contain_text("never reported")
    await expect(peak).to_contain_text("not fresh")
    await screenshot(page, "overview-status-cards")
