"""MQTT over WebSocket from the browser: vendored MQTT.js, credentials from the login session."""

import json

from playwright.async_api import Page, expect

from tests.conftest import RunningHub
from tests.e2e.conftest import SHARED_LOOP, login, screenshot

pytestmark = SHARED_LOOP


async def test_broker_page__the_browser_client_receives_the_retained_status(page: Page, ui_hub: RunningHub):
    await login(page, "vera")
    await page.goto("/live/broker")
    await expect(page.locator("#broker-state")).to_have_text("connected")
    prefix = ui_hub.hub.identity.topic_prefix
    status = page.locator(f"[data-topic='{prefix}status/update']")
    await expect(status).to_have_attribute("data-retained", "true")
    payload = json.loads(await status.locator("pre").inner_text())
    assert payload["status"] == "online"
    await screenshot(page, "broker")
