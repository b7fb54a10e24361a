"""Browser tests: a real hub running the simulated demo site, driven by Debian's Chromium through Playwright.

Never downloads a browser: test.sh installs the `chromium` Debian package and Playwright launches
/usr/bin/chromium. Screenshots go to test-artifacts/e2e/ (git-ignored) for a person to look at.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from hub.config import HubConfig
from hub.core import Hub
from hub.http.app import create_app
from hub.http.keys import HUB_KEY
from tests.conftest import RunningHub
from tests.ui_site import CHROMIUM, CHROMIUM_ARGS, USERS, add_users, ui_config

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
WAIT_MS = 10_000  # a bound on waits for the page; reached only when a test fails


# Every browser test runs in the session's event loop (each module says so with this mark), so they
# share one Chromium: it takes about 2 s to start.
SHARED_LOOP = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def site_config(tmp_path: Path) -> HubConfig:
    """The config of the browser tests' hub: the demo site (a test module overrides it for its own site)."""
    return ui_config(tmp_path)


@pytest_asyncio.fixture(loop_scope="session")
async def ui_hub(site_config: HubConfig) -> AsyncIterator[RunningHub]:
    """A running hub (aiohttp on an ephemeral port) with the demo site and one user of each role."""
    server = TestServer(create_app(Hub(site_config)), host="127.0.0.1")
    await server.start_server()
    try:
        running = RunningHub(server.app[HUB_KEY], server)  # type: ignore[index]
        await add_users(running.hub)
        yield running
    finally:
        await server.close()


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium (a missing browser fails the test: it must not be downloaded instead)."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install the Debian package chromium (test.sh does)"
    return CHROMIUM


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """Headless Debian Chromium, shared by the browser tests (each gets its own context)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Browser, ui_hub: RunningHub) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile pointed at the hub."""
    made = await browser.new_context(base_url=f"http://127.0.0.1:{ui_hub.http_port}")
    made.set_default_timeout(WAIT_MS)
    try:
        yield made
    finally:
        await made.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: BrowserContext) -> Page:
    """A tab in that profile."""
    return await context.new_page()


async def login(page: Page, user: str, password: str | None = None) -> None:
    """Log in through the login form as `user` (a USERS name unless a password is given)."""
    await page.goto("/login")
    await page.get_by_label("User name").fill(user)
    await page.get_by_label("Password").fill(password or USERS[user][1])
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(lambda url: "/login" not in url)


async def settled(page: Page) -> None:
    """Wait until htmx has wired what it swapped in: it does so when the swap settles (20 ms later),
    so a control used sooner would do nothing — faster than any person, not than a test."""
    await expect(page.locator(".htmx-settling, .htmx-request")).to_have_count(0)


async def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as test-artifacts/e2e/NAME.png (kept for a person to look at)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
