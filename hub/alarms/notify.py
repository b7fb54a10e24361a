"""Alarm notifications: every transition on MQTT; raises and clears by webhook and email, per severity.

Webhook and email each have a bounded queue and one supervised task that retries with backoff, and
a per-alarm rate limit so a flapping point cannot flood anyone; what is dropped is counted.
"""

import asyncio
import json
import logging
import smtplib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage

import aiohttp

from hub.alarms.model import Alarm, AlarmEvent, EventKind, Severity
from hub.alarms.settings import EmailConfig, RateLimit, WebhookConfig
from hub.mqtt.broker import EmbeddedBroker

_LOGGER = logging.getLogger(__name__)

QUEUE_LIMIT = 1000  # notifications waiting per channel; beyond, dropped and counted
TOPIC = "alarms/event"  # under the hub's prefix
NOTIFIED = frozenset({EventKind.RAISED, EventKind.CLEARED})  # what webhook and email are told about


@dataclass(frozen=True)
class Notice:
    """One alarm transition and the alarm after it."""

    event: AlarmEvent
    alarm: Alarm
    now: float

    def json(self) -> dict[str, object]:
        return {"event": self.event.as_json(), "alarm": self.alarm.as_json(self.now)}


def publish_mqtt(broker: EmbeddedBroker, prefix: str, notice: Notice) -> None:
    """Publish a transition on `{prefix}alarms/event` (QoS 1, not retained) for cloud monitoring."""
    broker.publish(prefix + TOPIC, json.dumps(notice.json(), default=str).encode(), qos=1)


class RateLimiter:
    """At most `count` notifications per alarm within any `period` seconds."""

    def __init__(self, limit: RateLimit) -> None:
        self._limit = limit
        self._sent: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float) -> bool:
        times = self._sent.setdefault(key, deque())
        while times and now - times[0] >= self._limit.period:
            times.popleft()
        if len(times) >= self._limit.count:
            return False
        times.append(now)
        return True


@dataclass(frozen=True)
class Retry:
    retries: int
    initial: float
    maximum: float

    def delay(self, attempt: int) -> float:
        return min(self.initial * 2**attempt, self.maximum)


class Delivery:
    """One notification channel: severity filter, rate limit, bounded queue, retries with backoff."""

    def __init__(
        self,
        name: str,
        send: Callable[[Notice], Awaitable[None]],
        severities: tuple[Severity, ...],
        retry: Retry,
        limit: RateLimit,
    ) -> None:
        self.name = name
        self._send = send
        self._severities = frozenset(severities)
        self._retry = retry
        self._limiter = RateLimiter(limit)
        self._queue: asyncio.Queue[Notice] = asyncio.Queue(QUEUE_LIMIT)
        self.counters = {"sent": 0, "failed": 0, "retried": 0, "rate_limited": 0, "dropped": 0}
        self.last_error: str | None = None  # of the last notice, None once one gets through

    def offer(self, notice: Notice) -> None:
        """Queue the notice when its severity is wanted and the alarm is within its rate limit."""
        if notice.event.kind not in NOTIFIED or notice.alarm.severity not in self._severities:
            return
        if notice.alarm.shelved(notice.now):
            return
        if not self._limiter.allow(notice.alarm.id, notice.now):
            self.counters["rate_limited"] += 1
            return
        try:
            self._queue.put_nowait(notice)
        except asyncio.QueueFull:
            self.counters["dropped"] += 1

    async def run(self) -> None:
        """Send queued notices one by one; a notice that keeps failing is logged and dropped."""
        while True:
            notice = await self._queue.get()
            await self._deliver(notice)

    async def _deliver(self, notice: Notice) -> None:
        for attempt in range(self._retry.retries + 1):
            try:
                await self._send(notice)
            except (OSError, aiohttp.ClientError, smtplib.SMTPException, TimeoutError) as err:
                error = f"{type(err).__name__}: {err}"
            else:
                self.counters["sent"] += 1
                self.last_error = None
                return
            if attempt < self._retry.retries:
                self.counters["retried"] += 1
                await asyncio.sleep(self._retry.delay(attempt))
        self.counters["failed"] += 1
        self.last_error = error
        _LOGGER.warning("%s notification for alarm %s failed: %s", self.name, notice.alarm.id, error)


class WebhookFailed(aiohttp.ClientError):
    """The webhook answered with an error status."""


def webhook(
    config: WebhookConfig, limit: RateLimit, session: Callable[[], aiohttp.ClientSession]
) -> Delivery | None:
    """The webhook channel (HTTP POST of the notice as JSON), or None when no URL is configured."""
    if config.url is None:
        return None
    url = config.url

    async def send(notice: Notice) -> None:
        timeout = aiohttp.ClientTimeout(total=config.timeout)
        async with session().post(url, json=notice.json(), timeout=timeout) as response:
            if response.status >= 300:
                raise WebhookFailed(f"HTTP {response.status}")

    retry = Retry(config.retries, config.backoff_initial, config.backoff_max)
    return Delivery("webhook", send, config.severities, retry, limit)


def email(config: EmailConfig, limit: RateLimit) -> Delivery | None:
    """The email channel (SMTP in a worker thread), or None without a host or recipients."""
    if config.host is None or not config.recipients:
        return None

    async def send(notice: Notice) -> None:
        await asyncio.to_thread(_send_mail, config, notice)

    retry = Retry(config.retries, config.backoff_initial, config.backoff_max)
    return Delivery("email", send, config.severities, retry, limit)


def _send_mail(config: EmailConfig, notice: Notice) -> None:
    alarm, event = notice.alarm, notice.event
    message = EmailMessage()
    message["Subject"] = f"[{alarm.severity}] {event.kind}: {alarm.message}"
    message["From"] = config.sender
    message["To"] = ", ".join(config.recipients)
    message.set_content(json.dumps(notice.json(), indent=2, default=str))
    assert config.host is not None
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
        if config.starttls:
            smtp.starttls()
        if config.username is not None:
            smtp.login(config.username, config.password or "")
        smtp.send_message(message)
