"""The `alarms:` section of the config as frozen dataclasses (validated by hub.alarms.schema)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from hub.alarms.model import Severity

ALL_SEVERITIES = tuple(Severity)


@dataclass(frozen=True)
class LimitRule:
    point: str
    high: float | None = None  # alarm above this value
    low: float | None = None  # alarm below this value
    deadband: float = 0.0  # the value must come back this far inside the limit to clear
    delay: float = 0.0  # s the condition must last before the alarm is raised (and cleared)
    severity: Severity = Severity.MAJOR
    message: str = "{point} is {value}{units}, {condition} limit {limit}{units}"


@dataclass(frozen=True)
class StaleRule:
    enabled: bool = True
    severity: Severity = Severity.MINOR
    factor: float | None = None  # intervals without a sample; None: polling.stale_factor
    points: tuple[str, ...] = ()  # points watched; none: every point
    message: str = "{point} has not reported for {age} s"


@dataclass(frozen=True)
class SourceRule:
    enabled: bool = True
    severity: Severity = Severity.MAJOR


@dataclass(frozen=True)
class RateLimit:
    count: int = 5  # notifications per alarm and channel ...
    period: float = 3600.0  # ... within this many seconds; more are dropped and counted


@dataclass(frozen=True)
class WebhookConfig:
    url: str | None = None  # None: no webhook
    severities: tuple[Severity, ...] = (Severity.CRITICAL, Severity.MAJOR)
    timeout: float = 10.0  # s per attempt
    retries: int = 5  # attempts after the first failed one
    backoff_initial: float = 1.0  # s before the first retry, doubling up to backoff_max
    backoff_max: float = 60.0


@dataclass(frozen=True)
class EmailConfig:
    host: str | None = None  # SMTP server; None: no email
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # from !secret; never logged
    sender: str = "bms-hub@localhost"
    recipients: tuple[str, ...] = ()
    severities: tuple[Severity, ...] = (Severity.CRITICAL,)
    timeout: float = 30.0  # s for one message
    retries: int = 3
    backoff_initial: float = 5.0
    backoff_max: float = 300.0


@dataclass(frozen=True)
class NotificationsConfig:
    rate_limit: RateLimit = RateLimit()
    webhook: WebhookConfig = WebhookConfig()
    email: EmailConfig = EmailConfig()


class CardFormat(StrEnum):
    BOOLEAN = "boolean"  # true/false (or 0/1) shown as the on/off labels
    MULTISTATE = "multistate"  # a number shown as its label in `states`
    NUMERIC = "numeric"  # a number with units and decimals
    TEXT = "text"  # the value as it is


@dataclass(frozen=True)
class CardPoint:
    point: str
    label: str | None = None  # None: the point's name
    format: CardFormat = CardFormat.TEXT
    on: str = "ON"
    off: str = "OFF"
    states: Mapping[int, str] = field(default_factory=dict)  # multistate value -> label
    units: str | None = None  # None: the point's units
    decimals: int = 1


@dataclass(frozen=True)
class StatusCard:
    id: str
    title: str
    points: tuple[CardPoint, ...] = ()


@dataclass(frozen=True)
class AlarmsConfig:
    tick_interval: float = 1.0  # s between checks of delays, stale points and shelving windows
    limits: tuple[LimitRule, ...] = ()
    stale: StaleRule = StaleRule()
    device_offline: SourceRule = SourceRule()
    write_failed: SourceRule = SourceRule(severity=Severity.MINOR)
    flow_error: SourceRule = SourceRule()
    notifications: NotificationsConfig = NotificationsConfig()
    status_cards: tuple[StatusCard, ...] = ()
