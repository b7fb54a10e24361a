"""The BMS connections page in Chromium: the connect wizard, a real MQTT client using the credentials it
shows, the status card, one-click mapping, reveal and hide, the activity dialog, and what each role sees."""

import json
import re
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiomqtt
from playwright.async_api import Dialog, Locator, Page, expect

from hub.bms.model import BmsType, Reading, Transport
from tests.conftest import RunningHub
from tests.e2e.conftest import SHARED_LOOP, login, screenshot, settled

pytestmark = SHARED_LOOP

PHONE = {"width": 390, "height": 844}


async def accept(dialog: Dialog) -> None:
    """Say yes to hx-confirm's question (delete, regenerate)."""
    await dialog.accept()


async def shown(page: Page, slug: str) -> str:
    return (await page.locator(f"#copy-{slug}").inner_text()).strip()


def reading(value: float) -> bytes:
    now = datetime.now(UTC).isoformat()
    return json.dumps(
        {"point_id": "AHU1/SupplyTemp", "value": value, "unit": "degC", "timestamp": now}
    ).encode()


async def open_dialog(card: Locator, page: Page, button: str, title: str) -> Locator:
    await card.get_by_role("button", name=button, exact=True).click()
    dialog = page.get_by_role("dialog", name=title)
    await expect(dialog).to_be_visible()
    await settled(page)
    return dialog


async def test_connect__wizard_credentials_real_client_card_and_one_click_mapping(
    page: Page, ui_hub: RunningHub
):
    page.on("dialog", accept)
    await login(page, "ada")
    await page.goto("/bms")
    await expect(page.get_by_role("heading", name="No BMS is connected yet")).to_be_visible()
    await screenshot(page, "bms-empty")

    await page.get_by_role("button", name="Connect a BMS").click()
    wizard = page.get_by_role("dialog", name="Connect a BMS")
    await wizard.get_by_label("WebCTRL").check()
    await wizard.get_by_label("Connection name").fill("Tower A")
    await wizard.get_by_role("button", name="Next").click()
    await expect(wizard).to_contain_text("Step 2 of 2")
    await expect(wizard).to_contain_text("this hub has no MQTT TLS listener")
    await wizard.get_by_label(re.compile("MQTT over WebSocket")).check()
    await screenshot(page, "bms-wizard-protocol")
    await wizard.get_by_role("button", name="Create connection").click()
    created = page.get_by_role("dialog", name="Tower A is connected")
    await expect(created).to_contain_text("the password is shown only now")
    await expect(created.get_by_role("table", name="WebCTRL settings")).to_contain_text(
        "bms/tower-a/readings"
    )
    await screenshot(page, "bms-created")
    password, websocket = await shown(page, "password"), urlsplit(await shown(page, "websocket"))
    assert websocket.path == "/mqtt"
    client = aiomqtt.Client(
        websocket.hostname or "",
        websocket.port or 0,
        transport="websockets",
        websocket_path=websocket.path,
        identifier=await shown(page, "client-id"),
        username=await shown(page, "username"),
        password=password,
        timeout=10,
    )
    topic = await shown(page, "topic")
    await created.get_by_role("button", name="Close").click()

    card = page.get_by_role("article", name="Tower A")
    async with client:
        await client.publish(topic, reading(12.5), qos=1)  # acknowledged once the hub has routed it
        await expect(card.locator("[data-stat=messages]")).to_have_text(re.compile(r"^1 \(1 readings\)"))
        await expect(card).to_contain_text("connected")
        await expect(card.locator("[data-stat=last]")).to_have_text(re.compile(r"^\d+ s ago$"))
        await expect(card.locator("[data-stat=unmapped]")).to_have_text("1")
        await screenshot(page, "bms-card")

        mapping = await open_dialog(card, page, "Mapping", "Mapping of Tower A")
        unmapped = mapping.get_by_role("table", name="Unmapped points")
        await expect(unmapped).to_contain_text("12.5 degC")
        await screenshot(page, "bms-unmapped")
        await unmapped.get_by_role("button", name="Map AHU1/SupplyTemp to a new point").click()
        await expect(mapping).to_contain_text("AHU1/SupplyTemp is mapped to bms-tower-a.AHU1_SupplyTemp")
        await expect(unmapped).to_contain_text("Every point the BMS sent is mapped.")
        await client.publish(topic, reading(13.5), qos=1)
        await mapping.get_by_role("button", name="Close").click()
        mapping = await open_dialog(card, page, "Mapping", "Mapping of Tower A")
        await expect(mapping.get_by_role("table", name="Mapped points", exact=True)).to_contain_text(
            "13.50 degC"
        )
        await screenshot(page, "bms-mapping")
        await mapping.get_by_role("button", name="Close").click()

    await card.get_by_role("button", name="Test").click()
    await expect(card.get_by_role("status").last).to_contain_text(
        "Arrived on bms/tower-a/readings. bms-hub-test: not mapped: would be listed"
    )

    credentials = await open_dialog(card, page, "Credentials", "Credentials of Tower A")
    await expect(credentials).not_to_contain_text(password)
    await credentials.get_by_role("button", name="Reveal").click()
    await expect(page.locator("#copy-password")).to_have_text(password)
    await screenshot(page, "bms-credentials-revealed")
    await credentials.get_by_role("button", name="Hide").click()
    await expect(credentials).not_to_contain_text(password)
    await credentials.get_by_role("button", name="Regenerate password").click()
    await expect(credentials).to_contain_text("the old one is refused from now on")
    assert await shown(page, "password") not in ("", password)
    await credentials.get_by_role("button", name="Close").click()

    activity = await open_dialog(card, page, "Activity", "Activity of Tower A")
    await activity.get_by_label("Entry type").select_option("config_changed")
    await expect(activity.get_by_role("table")).to_contain_text("credentials regenerated by ada")
    await expect(activity.get_by_role("table")).not_to_contain_text("connection_established")
    await screenshot(page, "bms-activity")
    await activity.get_by_role("button", name="Close").click()

    await card.get_by_role("button", name="Disable").click()
    await expect(card).to_contain_text("disabled")
    assert not ui_hub.hub.bms.get("tower-a").enabled
    await card.get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("heading", name="No BMS is connected yet")).to_be_visible()
    assert not ui_hub.hub.bms.connections()


async def test_roles__operators_and_viewers_see_no_password_controls(page: Page, ui_hub: RunningHub):
    connection, _ = await ui_hub.hub.bms.create(
        "Tower B", BmsType.ECOSTRUXURE, Transport.WEBSOCKET, "", "test"
    )
    now = time.time()  # an unmapped point as the ingest lists it (the first test sends a real one)
    ui_hub.hub.bms.mappings.seen(connection.id, Reading("AHU1/Temp", 55.0, "degF", now), now)
    await page.set_viewport_size(PHONE)
    await page.emulate_media(color_scheme="dark")
    await login(page, "otto")
    await page.goto("/bms")
    card = page.get_by_role("article", name="Tower B")
    await expect(card.get_by_role("button", name="Test")).to_be_visible()
    await expect(card.get_by_role("button", name="Delete")).to_have_count(0)
    await expect(card.get_by_role("button", name="Disable")).to_have_count(0)
    await screenshot(page, "bms-phone-operator")
    credentials = await open_dialog(card, page, "Credentials", "Credentials of Tower B")
    await expect(credentials.get_by_role("table", name="EBO settings")).to_contain_text(connection.topic)
    await expect(credentials.get_by_role("button", name="Reveal")).to_have_count(0)
    await expect(credentials.get_by_role("button", name="Regenerate password")).to_have_count(0)
    await screenshot(page, "bms-phone-credentials")
    await credentials.get_by_role("button", name="Close").click()
    mapping = await open_dialog(card, page, "Mapping", "Mapping of Tower B")
    await expect(mapping.get_by_role("button", name="Map AHU1/Temp to a new point")).to_be_visible()
    await screenshot(page, "bms-phone-mapping")
    picker = mapping.get_by_label("Existing point for AHU1/Temp")
    await picker.fill("ahu-1.supply_air")  # the picker searches the hub's points as one types
    await expect(page.locator("#bms-point-options option[value='ahu-1.supply_air_temp']")).to_have_count(1)
    await picker.fill("ahu-1.supply_air_temp")
    await mapping.get_by_role("button", name="Attach AHU1/Temp to the chosen point").click()
    await expect(mapping).to_contain_text("AHU1/Temp is mapped to ahu-1.supply_air_temp")
    await expect(mapping.get_by_role("table", name="Mapped points", exact=True)).to_contain_text("degF →")

    await page.context.clear_cookies()
    await login(page, "vera")
    await page.goto("/bms")
    await expect(card).to_be_visible()
    await expect(card.get_by_role("button", name="Test")).to_have_count(0)
    credentials = await open_dialog(card, page, "Credentials", "Credentials of Tower B")
    await expect(credentials.get_by_role("button", name="Reveal")).to_have_count(0)
    await expect(credentials.get_by_role("button", name="Regenerate password")).to_have_count(0)
    await credentials.get_by_role("button", name="Close").click()
    mapping = await open_dialog(card, page, "Mapping", "Mapping of Tower B")
    await expect(mapping.get_by_role("table", name="Mapped points", exact=True)).to_contain_text("AHU1/Temp")
    await expect(mapping.get_by_role("button", name="Save")).to_have_count(0)
    await expect(mapping.get_by_role("button", name="Delete")).to_have_count(0)
