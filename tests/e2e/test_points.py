"""The point page in Chromium: day and week charts, a setpoint written after a confirm step, a refusal."""

import time

from playwright.async_api import Page, expect

from hub.points import Quality
from hub.store import QUALITY_CODES
from tests.conftest import RunningHub
from tests.e2e.conftest import SHARED_LOOP, login, screenshot
from tests.ui_site import slots

pytestmark = SHARED_LOOP

DAY_MS = 24 * 3_600_000
STEP_MS = 5_000


async def test_point_page__a_day_of_5_s_samples_is_charted_with_min_max_avg(page: Page, ui_hub: RunningHub):
    hub = ui_hub.hub
    point_id = "meter-1.power_kw"
    end = int(time.time() * 1000) - 60_000  # older than anything the running simulator writes
    good = QUALITY_CODES[Quality.GOOD]
    for ts in range(end - DAY_MS + STEP_MS, end, STEP_MS):
        hub.store.add(point_id, ts, 40.0 + (ts // STEP_MS) % 21, good)  # a saw tooth from 40 to 60
    hub.store.add(point_id, end - DAY_MS // 2, 95.0, good)  # one peak that downsampling must keep
    assert await hub.store.flush()

    await login(page, "vera")
    await page.goto(f"/points/{point_id}")
    chart = page.get_by_role("img", name="power_kw, last 24 hours")
    await expect(chart).to_be_visible()
    drawn = int(await chart.get_attribute("data-drawn") or 0)
    assert 100 < drawn <= 800  # downsampled on the server: a few hundred points for 17,000 samples
    assert await chart.locator("path.line").get_attribute("d")
    stats = page.locator("#chart-stats")
    await expect(stats).to_contain_text("Max")
    assert "95" in await stats.inner_text()  # the peak survives downsampling
    csv = await page.request.get(
        await page.get_by_role("link", name="Download CSV").get_attribute("href") or ""
    )
    assert csv.status == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert (await csv.text()).count("meter-1.power_kw") > 17_000
    await screenshot(page, "point-chart")


async def test_point_page__a_week_is_charted_from_the_rollups_past_the_raw_samples(
    page: Page, ui_hub: RunningHub
):
    hub = ui_hub.hub
    point_id = "meter-1.power_kw"  # the simulator's readings stay well below the spike
    end = int(time.time() * 1000) - DAY_MS  # older than the raw samples the chart of a day reads
    good = QUALITY_CODES[Quality.GOOD]
    for ts in range(end - 6 * DAY_MS, end, 300_000):  # every 5 minutes for 6 days
        hub.store.add(point_id, ts, 100.0 + (ts // 300_000) % 7, good)
    hub.store.add(point_id, end - 3 * DAY_MS + 1, 500.0, good)  # a spike the averages hide
    assert await hub.store.flush()

    await login(page, "vera")
    await page.goto(f"/points/{point_id}")
    await page.get_by_role("navigation", name="Chart span").get_by_role("link", name="7d").click()
    chart = page.get_by_role("img", name="power_kw, last 7 days")
    await expect(chart).to_be_visible()
    await expect(page.get_by_role("heading", name="Last 7 days")).to_be_visible()
    assert await chart.locator("path.band").get_attribute("d")
    assert 250 < int(await chart.get_attribute("data-drawn") or 0) <= 336  # 30-minute buckets
    stats = page.locator("#chart-stats")
    await expect(stats).to_contain_text("30-minute rollups")
    assert "500" in await stats.inner_text()  # the spike is in the band's maximum
    link = page.get_by_role("link", name="Download CSV (30-minute min, max, avg, last, count, 7 days)")
    csv = await page.request.get(await link.get_attribute("href") or "")
    assert csv.status == 200
    lines = (await csv.text()).splitlines()
    assert lines[0].endswith("min,max,avg,last,count")
    assert 250 < len(lines) - 1 <= 337
    await screenshot(page, "point-chart-week")


async def test_write__a_setpoint_is_confirmed_then_written_and_acknowledged(page: Page, ui_hub: RunningHub):
    await login(page, "otto")
    await page.goto("/points/vav-2.zone_setpoint")
    await page.get_by_label("Value to write").fill("22.5")
    await page.get_by_label("Priority to write at").select_option("10")
    await page.get_by_role("button", name="Write…").click()
    confirm = page.get_by_role("alertdialog", name="Confirm the write")
    await expect(confirm).to_contain_text("22.50 °C at priority 10")
    assert set(await slots(ui_hub, "vav-2.zone_setpoint")) == {None}  # nothing is written before confirming
    await confirm.get_by_role("button", name="Confirm").click()
    result = page.locator("#write-result")
    await expect(result).to_contain_text("Written: 22.50 °C at priority 10 (read back: the device holds it)")
    assert (await slots(ui_hub, "vav-2.zone_setpoint"))[9] == 22.5
    await expect(page.get_by_role("list", name="Priority slots, 1 highest")).to_contain_text("10: 22.50")
    await screenshot(page, "point-written")

    await page.get_by_role("button", name="Relinquish…").click()
    await (
        page.get_by_role("alertdialog", name="Confirm the write")
        .get_by_role("button", name="Confirm")
        .click()
    )
    await expect(result).to_contain_text("Written: relinquish at priority 10")
    await expect(page.get_by_role("list", name="Priority slots, 1 highest")).not_to_contain_text("22.50")


async def test_write__out_of_limits_shows_the_refusal_reason(page: Page, ui_hub: RunningHub):
    await login(page, "otto")
    await page.goto("/points/ahu-1.supply_air_setpoint")
    await page.get_by_label("Value to write").fill("45")
    await page.get_by_role("button", name="Write…").click()
    refusal = page.get_by_role("alert")
    await expect(refusal).to_contain_text("Refused: 45.0 is above the maximum 30")
    await expect(page.get_by_role("alertdialog")).to_have_count(0)  # no confirm step for a refused write
    assert set(await slots(ui_hub, "ahu-1.supply_air_setpoint")) == {None}
    await page.get_by_label("Value to write").fill("warm")
    await page.get_by_role("button", name="Write…").click()
    await expect(refusal).to_contain_text("value: expected a number, got 'warm'")
    await screenshot(page, "point-refused")


async def test_write__a_viewer_has_no_write_form_and_is_told_why(page: Page, ui_hub: RunningHub):
    await login(page, "vera")
    await page.goto("/points/vav-1.zone_setpoint")
    await expect(page.get_by_role("heading", name="Command")).to_be_visible()
    await expect(page.get_by_role("note")).to_have_text("Read-only: your role is viewer.")
    await expect(page.locator("#write-form")).to_have_count(0)
    await expect(page.get_by_label("Value to write")).to_have_count(0)
    await screenshot(page, "point-viewer")
