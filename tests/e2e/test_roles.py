"""A viewer in Chromium: the flow designer shows a running flow read-only (no save, deploy, dry run)."""

from playwright.async_api import Page, expect

from tests.conftest import RunningHub
from tests.e2e.conftest import SHARED_LOOP, login, screenshot
from tests.http.test_views_flows import FLOW

pytestmark = SHARED_LOOP


async def test_viewer__the_designer_shows_a_running_flow_read_only(page: Page, ui_hub: RunningHub):
    await ui_hub.hub.flows.deploy({"sp_const.yaml": FLOW}, "otto", "first")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await login(page, "vera")
    await page.goto("/flows/sp_const/edit")
    await expect(page.get_by_role("note")).to_have_text("Read-only: your role is viewer.")
    await expect(page.locator('#canvas .node[data-id="out"]')).to_be_visible()  # the script drew the flow
    await expect(page.get_by_role("region", name="Live")).to_be_visible()  # and started the live view
    await expect(page.get_by_role("heading", name="Last runs")).to_be_visible()
    for control in ("Save", "Deploy", "Replay"):
        await expect(page.get_by_role("button", name=control)).to_have_count(0)
    await expect(page.locator("#dry-run")).to_have_count(0)
    assert errors == []
    await screenshot(page, "designer-viewer")
