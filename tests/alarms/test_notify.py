"""Notifications: webhook retries against a local HTTP server, email to a local SMTP listener, rate limits."""

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from hub.alarms.model import AlarmEvent, EventKind, Severity, SourceKind
from hub.alarms.notify import Delivery, Notice, Retry
from hub.alarms.projection import Projection
from hub.alarms.settings import EmailConfig, NotificationsConfig, RateLimit, WebhookConfig
from tests.alarms.conftest import StartSite
from tests.alarms.smtp import SmtpListener
from tests.conftest import WAIT_S


class Webhook:
    """A local HTTP endpoint that fails the first `failures` requests with 500, then accepts."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.attempts = 0
        self.accepted: asyncio.Queue[dict] = asyncio.Queue()

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.attempts <= self.failures:
            return web.Response(status=500)
        self.accepted.put_nowait(await request.json())
        return web.Response(status=204)

    async def next(self) -> dict:
        async with asyncio.timeout(WAIT_S):
            return await self.accepted.get()


@pytest.fixture
async def hook() -> AsyncIterator[tuple[Webhook, TestServer]]:
    endpoint = Webhook(failures=2)
    app = web.Application()
    app.router.add_post("/alarm", endpoint.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield endpoint, server
    await server.close()


def webhook(server: TestServer, **changes: object) -> NotificationsConfig:
    url = str(server.make_url("/alarm"))
    config = WebhookConfig(url=url, backoff_initial=0.01, backoff_max=0.02, **changes)  # type: ignore[arg-type]
    return NotificationsConfig(rate_limit=RateLimit(count=2, period=60), webhook=config)


async def test_webhook__retried_with_backoff_until_accepted(
    site: StartSite, hook: tuple[Webhook, TestServer]
) -> None:
    endpoint, server = hook
    s = await site(notifications=webhook(server, retries=3))
    s.alarms.raise_flow_alarm("f", "a", Severity.CRITICAL, "pump failed")
    body = await endpoint.next()
    assert endpoint.attempts == 3  # two 500s, then accepted
    assert body["event"]["kind"] == "raised"
    assert body["alarm"]["id"] == "flow:f:a"
    assert body["alarm"]["message"] == "pump failed"
    counters = s.alarms.deliveries[0].counters
    assert (counters["retried"], counters["failed"]) == (2, 0)


async def test_webhook__gives_up_after_its_retries(site: StartSite, hook: tuple[Webhook, TestServer]) -> None:
    endpoint, server = hook
    s = await site(notifications=webhook(server, retries=1))
    s.alarms.raise_flow_alarm("f", "a", Severity.CRITICAL, "first")
    s.alarms.raise_flow_alarm("f", "b", Severity.CRITICAL, "second")
    body = await endpoint.next()
    assert body["alarm"]["message"] == "second"  # "first" failed twice and was dropped
    assert s.alarms.health().detail["notifications"]["webhook"]["failed"] == 1  # type: ignore[index]


async def test_webhook__rate_limit_severity_filter_and_shelving(
    site: StartSite, hook: tuple[Webhook, TestServer]
) -> None:
    endpoint, server = hook
    endpoint.failures = 0
    s = await site(notifications=webhook(server))
    s.alarms.raise_flow_alarm("f", "quiet", Severity.MINOR, "not sent: minor")
    for _ in range(5):  # a flapping alarm: ten transitions, two notifications per minute
        s.alarms.raise_flow_alarm("f", "flap", Severity.MAJOR, "flapping")
        s.alarms.clear_flow_alarm("f", "flap")
    s.alarms.raise_flow_alarm("f", "shelved", Severity.MAJOR, "sent before shelving")
    s.alarms.shelve("flow:f:shelved", s.clock.now + 600, "maintenance", "ann")
    s.alarms.clear_flow_alarm("f", "shelved")  # not sent: shelved
    s.clock.now += 60
    s.alarms.raise_flow_alarm("f", "flap", Severity.MAJOR, "a minute later")
    received = [await endpoint.next() for _ in range(4)]
    assert [(b["event"]["kind"], b["alarm"]["message"]) for b in received] == [
        ("raised", "flapping"),
        ("cleared", "flapping"),
        ("raised", "sent before shelving"),
        ("raised", "a minute later"),
    ]
    assert s.alarms.deliveries[0].counters["rate_limited"] == 8


async def test_email__sent_to_a_local_smtp_listener_after_a_busy_server(site: StartSite) -> None:
    listener = SmtpListener(busy=1)
    await listener.start()
    try:
        config = EmailConfig(
            host="127.0.0.1",
            port=listener.port,
            sender="hub@site.example",
            recipients=("ops@site.example", "oncall@site.example"),
            username="hub",
            password="smtp-pw",
            backoff_initial=0.01,
        )
        s = await site(notifications=NotificationsConfig(email=config))
        s.alarms.raise_flow_alarm("f", "b", Severity.MAJOR, "not sent: major")
        s.alarms.raise_flow_alarm("f", "a", Severity.CRITICAL, "boiler lockout")
        async with asyncio.timeout(WAIT_S):
            sender, recipients, message = await listener.messages.get()
    finally:
        await listener.stop()
    assert listener.connections == 2
    assert listener.logins == [("hub", "smtp-pw")]
    assert sender == "<hub@site.example>"
    assert recipients == ["<ops@site.example>", "<oncall@site.example>"]
    assert message["Subject"] == "[critical] raised: boiler lockout"
    assert json.loads(message.get_payload())["alarm"]["id"] == "flow:f:a"


async def test_delivery__last_error_until_a_notice_gets_through() -> None:
    outcomes = [OSError("connection refused"), None]
    tried = asyncio.Queue[None]()

    async def send(notice: Notice) -> None:
        tried.put_nowait(None)
        if error := outcomes.pop(0):
            raise error
        # Either way the outcome is counted before the delivery task next waits, so before the test wakes.

    delivery = Delivery("test", send, (Severity.MAJOR,), Retry(0, 0.01, 0.01), RateLimit())
    task = asyncio.create_task(delivery.run())
    try:
        raised = AlarmEvent(EventKind.RAISED, "a", 0.0, source=SourceKind.FLOW, severity=Severity.MAJOR)
        alarm = Projection.replay([raised]).get("a")
        assert alarm is not None
        delivery.offer(Notice(raised, alarm, 0.0))
        async with asyncio.timeout(WAIT_S):
            await tried.get()
        assert delivery.last_error == "OSError: connection refused"
        delivery.offer(Notice(raised, alarm, 1.0))
        async with asyncio.timeout(WAIT_S):
            await tried.get()
        assert delivery.last_error is None
        assert delivery.counters["sent"] == 1
    finally:
        task.cancel()
