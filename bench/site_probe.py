"""Device change → MQTT subscriber and → browser DOM, measured on a BACnet device the bench owns.

The probe is one more simulated BACnet device (an analog input), served from the bench's own
process so the bench knows the instant it changes: each round sets a new present value (stamping
`time.time()` first), the device pushes it by COV (unconfirmed; the hub subscribes to it), and the
round ends when both a WebSocket MQTT subscriber of the point's retained topic and the device page
in Chromium (bench/ui.py's MutationObserver) have seen the value. Same machine, same clock; nothing
is subtracted. With COV the poll interval adds nothing; a polled point would add up to one poll
interval (half of it on average).
"""

import argparse
import asyncio
import contextlib
import ipaddress
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiomqtt
import ui  # bench/ui.py: the DOM observer
from bacpypes3.app import Application
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, async_playwright
from site_hub import ADMIN, ADMIN_PASSWORD, DASHBOARD, DASHBOARD_PASSWORD, HOST, PREFIX, PROBE_INSTANCE, Api

from integrations.bacnet.network import Endpoint, open_application
from integrations.bacnet.simulator import ReadOnlyInput, SimulatedApplication, build_objects
from tests.ui_site import CHROMIUM, CHROMIUM_ARGS

ROUND_TIMEOUT_S = 10.0
POINT = f"{PROBE_INSTANCE}.analogInput.1"


@dataclass
class Latencies:
    """Per round, ms from the device change to the subscriber and to the DOM; rounds that timed out."""

    mqtt_ms: list[float] = field(default_factory=list)
    dom_ms: list[float] = field(default_factory=list)
    missed_mqtt: int = 0
    missed_dom: int = 0
    error: str = ""  # why the rounds stopped early


async def probe_device(port: int) -> tuple[Application, ReadOnlyInput]:
    """The probe device on 127.0.0.1:`port`, with its one analog input."""
    shape = argparse.Namespace(
        name="Probe", max_apdu=1476, no_segmentation=False, analog_inputs=1, analog_values=0, binary_values=0
    )
    device, objects = build_objects(shape, PROBE_INSTANCE)
    endpoint = Endpoint(ipaddress.IPv4Interface(f"{HOST}/32"), port)
    app = await open_application(endpoint, device, objects, app_class=SimulatedApplication)
    return app, objects[0]  # type: ignore[return-value]


@contextlib.asynccontextmanager
async def browser_page(api: Api) -> AsyncIterator[Page]:
    """Chromium (headless) logged in as the admin, showing the probe device's page live."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            context = await browser.new_context(base_url=api.base)
            answer = await context.request.post(
                "/api/auth/login", data={"username": ADMIN, "password": ADMIN_PASSWORD}
            )
            if answer.status != 200:
                raise RuntimeError(f"browser login failed: {answer.status}")
            page = await context.new_page()
            await ui.watch(page, str(PROBE_INSTANCE), POINT)
            yield page
        finally:
            await browser.close()


async def run_rounds(
    api: Api, obj: ReadOnlyInput, until: float, every: float, record_from: float = 0.0
) -> Latencies:
    """Change the probe every `every` s until the monotonic time `until`; time each change's arrivals.

    Rounds before the monotonic time `record_from` run but are not kept: the browser and the MQTT
    client then start during a warm-up, and their own start-up is not inside the measured window.
    """
    result = Latencies()
    try:
        await _rounds(result, api, obj, until, every, record_from)
    except (aiomqtt.MqttError, PlaywrightError, TimeoutError) as err:  # the hub stopped answering
        result.error = repr(err)
    return result


async def _rounds(
    result: Latencies, api: Api, obj: ReadOnlyInput, until: float, every: float, record_from: float
) -> None:
    arrivals: dict[float, asyncio.Future[float]] = {}
    async with (
        aiomqtt.Client(
            HOST, api.hub.port, transport="websockets", websocket_path="/mqtt",
            username=DASHBOARD, password=DASHBOARD_PASSWORD, identifier="site-probe",
        ) as mqtt,
        browser_page(api) as page,
    ):  # fmt: skip
        await mqtt.subscribe(f"{PREFIX}{PROBE_INSTANCE}/{POINT}", qos=1)

        async def listen() -> None:
            async for message in mqtt.messages:
                at = time.time() * 1000
                value = json.loads(bytes(message.payload)).get("value")  # type: ignore[arg-type]
                waiter = arrivals.get(round(value, 2)) if isinstance(value, float | int) else None
                if waiter is not None and not waiter.done():
                    waiter.set_result(at)

        listener = asyncio.create_task(listen())
        try:
            n = 0
            while n == 0 or time.monotonic() < until:  # at least one round, however short the window
                n += 1
                value = 100.0 + n % 800  # a new value each round (below 1,000: the page shows 2 decimals)
                arrivals[value] = asyncio.get_running_loop().create_future()
                kept = result if time.monotonic() >= record_from else Latencies()
                sent = time.time() * 1000
                obj.presentValue = value
                await _one_round(kept, page, arrivals[value], value, sent)
                del arrivals[value]
                await asyncio.sleep(every)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)


async def _one_round(
    result: Latencies, page: Page, mqtt: asyncio.Future[float], value: float, sent: float
) -> None:
    dom = asyncio.ensure_future(ui.shown_at(page, value, ROUND_TIMEOUT_S * 1000))
    try:
        result.mqtt_ms.append(await asyncio.wait_for(mqtt, ROUND_TIMEOUT_S) - sent)
    except TimeoutError:
        result.missed_mqtt += 1
    try:
        result.dom_ms.append(await dom - sent)
    except Exception:
        result.missed_dom += 1
