"""The voluptuous schema of the `alarms:` section, built from the config's own validators."""

from typing import Any

import voluptuous as vol

from hub.alarms.model import Severity
from hub.alarms.settings import (
    AlarmsConfig,
    CardFormat,
    CardPoint,
    EmailConfig,
    LimitRule,
    NotificationsConfig,
    RateLimit,
    SourceRule,
    StaleRule,
    StatusCard,
    WebhookConfig,
)
from hub.config import boolean, each, identifier, integer, number, optional, seconds, section, string

VALUE = number(-1e12, 1e12, "a number")


def severity(value: Any) -> Severity:
    if isinstance(value, str) and value.lower() in set(Severity):
        return Severity(value.lower())
    raise vol.Invalid(f"expected one of {', '.join(Severity)}")


def card_format(value: Any) -> CardFormat:
    if isinstance(value, str) and value.lower() in set(CardFormat):
        return CardFormat(value.lower())
    raise vol.Invalid(f"expected one of {', '.join(CardFormat)}")


def url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise vol.Invalid("expected an http:// or https:// URL")
    return value


def state_labels(value: Any) -> dict[int, str]:
    """A mapping of multistate value (an integer) -> its label."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise vol.Invalid("expected a mapping of state number -> label")
    out, errors = {}, []
    for key, label in value.items():
        if isinstance(key, bool) or not isinstance(key, int) or not isinstance(label, str):
            errors.append(vol.Invalid("expected an integer state with a text label", [key]))
        else:
            out[key] = label
    if errors:
        raise vol.MultipleInvalid(errors)
    return out


def limit_rule(value: Any) -> LimitRule:
    """A limit needs a high or a low value (or both, low below high)."""
    rule = section(LIMIT_SCHEMA, LimitRule)(value)
    if rule.high is None and rule.low is None:
        raise vol.Invalid("a limit rule needs `high`, `low` or both", ["point"])
    if rule.high is not None and rule.low is not None and rule.low >= rule.high:
        raise vol.Invalid("expected `low` below `high`", ["low"])
    return rule


SEVERITIES = each(severity)

LIMIT_SCHEMA = vol.Schema(
    {
        vol.Required("point"): string,
        vol.Optional("high"): optional(VALUE),
        vol.Optional("low"): optional(VALUE),
        vol.Optional("deadband"): number(0, 1e12),
        vol.Optional("delay"): seconds(0, 86400),
        vol.Optional("severity"): severity,
        vol.Optional("message"): string,
    }
)

STALE_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled"): boolean,
        vol.Optional("severity"): severity,
        vol.Optional("factor"): optional(number(1, 100)),
        vol.Optional("points"): each(string),
        vol.Optional("message"): string,
    }
)

SOURCE_SCHEMA = vol.Schema({vol.Optional("enabled"): boolean, vol.Optional("severity"): severity})

RETRIES = {
    vol.Optional("retries"): integer(0, 100),
    vol.Optional("backoff_initial"): seconds(0.01, 3600),
    vol.Optional("backoff_max"): seconds(0.01, 86400),
}

WEBHOOK_SCHEMA = vol.Schema(
    {
        vol.Optional("url"): url,
        vol.Optional("severities"): SEVERITIES,
        vol.Optional("timeout"): seconds(0.1, 600),
        **RETRIES,
    }
)

EMAIL_SCHEMA = vol.Schema(
    {
        vol.Optional("host"): optional(string),
        vol.Optional("port"): integer(1, 65535),
        vol.Optional("starttls"): boolean,
        vol.Optional("username"): optional(string),
        vol.Optional("password"): optional(string),
        vol.Optional("sender"): string,
        vol.Optional("recipients"): each(string),
        vol.Optional("severities"): SEVERITIES,
        vol.Optional("timeout"): seconds(0.1, 600),
        **RETRIES,
    }
)

RATE_LIMIT_SCHEMA = vol.Schema(
    {vol.Optional("count"): integer(1, 10_000), vol.Optional("period"): seconds(1, 86400)}
)

NOTIFICATIONS_SCHEMA = vol.Schema(
    {
        vol.Optional("rate_limit"): section(RATE_LIMIT_SCHEMA, RateLimit),
        vol.Optional("webhook"): section(WEBHOOK_SCHEMA, WebhookConfig),
        vol.Optional("email"): section(EMAIL_SCHEMA, EmailConfig),
    }
)

CARD_POINT_SCHEMA = vol.Schema(
    {
        vol.Required("point"): string,
        vol.Optional("label"): optional(string),
        vol.Optional("format"): card_format,
        vol.Optional("on"): string,
        vol.Optional("off"): string,
        vol.Optional("states"): state_labels,
        vol.Optional("units"): optional(str),
        vol.Optional("decimals"): integer(0, 10),
    }
)

CARD_SCHEMA = vol.Schema(
    {
        vol.Required("id"): identifier,
        vol.Required("title"): string,
        vol.Optional("points"): each(section(CARD_POINT_SCHEMA, CardPoint)),
    }
)


def status_cards(value: Any) -> tuple[StatusCard, ...]:
    """The cards, each with its own id (the UI and the API tell them apart by it)."""
    cards = each(section(CARD_SCHEMA, StatusCard))(value)
    seen: set[str] = set()
    for index, card in enumerate(cards):
        if card.id in seen:
            raise vol.Invalid(f"duplicate card id {card.id!r}", [index, "id"])
        seen.add(card.id)
    return cards


ALARMS_SCHEMA = vol.Schema(
    {
        vol.Optional("tick_interval"): seconds(0.1, 60),
        vol.Optional("limits"): each(limit_rule),
        vol.Optional("stale"): section(STALE_SCHEMA, StaleRule),
        vol.Optional("device_offline"): section(SOURCE_SCHEMA, SourceRule),
        vol.Optional("write_failed"): section(SOURCE_SCHEMA, SourceRule),
        vol.Optional("flow_error"): section(SOURCE_SCHEMA, SourceRule),
        vol.Optional("notifications"): section(NOTIFICATIONS_SCHEMA, NotificationsConfig),
        vol.Optional("status_cards"): status_cards,
    }
)

alarms_section = section(ALARMS_SCHEMA, AlarmsConfig)
