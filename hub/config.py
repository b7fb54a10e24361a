"""The hub's configuration: frozen dataclasses, the voluptuous schema, and `load_config()`.

Every problem in a config file is reported at once, each as `file:line: key: message`,
so a user fixes the whole file in one pass instead of one error per run. Line numbers
come from `hub.yaml_loader`, which remembers where every key and value was written.
"""

import difflib
import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import voluptuous as vol

from hub.alarms.settings import (
    AlarmsConfig,
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
from hub.auth.settings import AuthConfig, CookieSecurity
from hub.mqtt.topics import topic_filter_problem
from hub.yaml_loader import Mark, MarkedDict, Problem, Unresolved, iter_problems, load_yaml, locate


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class MqttUser:
    username: str
    password: str = field(repr=False)  # plaintext from config or !secret; never logged
    publish: tuple[str, ...] = ()  # topic filters this user may publish to (MQTT wildcards + and #)
    subscribe: tuple[str, ...] = ()  # topic filters this user may subscribe to / receive from
    deny: tuple[str, ...] = ()  # filters refused for both, overriding the allow rules


@dataclass(frozen=True)
class TcpListenerConfig:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 1883


@dataclass(frozen=True)
class MqttConfig:
    users: tuple[MqttUser, ...] = ()
    allow_anonymous: bool = False
    tcp: TcpListenerConfig = TcpListenerConfig()
    max_packet_size: int = 262144  # bytes; a bigger packet disconnects the client
    connect_timeout: float = 10.0  # s a client has to send CONNECT after opening
    client_queue_limit: int = 1000  # per-client outgoing QoS 0 messages queued before dropping
    qos1_backlog_limit: int = 1000  # per-client unacknowledged+queued QoS 1 before disconnect
    heartbeat_interval: float = 30.0  # s between status/heartbeat messages


@dataclass(frozen=True)
class HttpConfig:
    host: str = "0.0.0.0"
    port: int = 8080


@dataclass(frozen=True)
class IdentityConfig:
    org_id: str | None = None
    site_id: str | None = None
    iot_device_id: str | None = None
    timezone: str = "UTC"  # the site's IANA time zone: the dashboard shows alarm times in it


@dataclass(frozen=True)
class PollingConfig:
    stale_factor: float = 3.0  # a point is stale after this many of its intervals without a sample
    max_backoff: float = 300.0  # s, the longest wait before retrying a device that keeps failing
    read_timeout: float = 5.0  # s, the shortest time a read may take before the device counts as offline


@dataclass(frozen=True)
class MqttApiConfig:
    batch_interval: float = 60.0  # s between bulk telemetry messages
    max_batch_size: int = 100  # points per bulk message; more are split over several messages
    controller_id: str | None = None  # first level of per-point topics; None: each point's device id


class BridgeTransport(StrEnum):
    TCP = "tcp"
    TLS = "tls"
    WSS = "wss"


@dataclass(frozen=True)
class SpoolConfig:
    max_messages: int = 100_000  # QoS 1 messages kept while upstream is unreachable
    max_bytes: int = 50 * 1024 * 1024  # topic + payload bytes kept
    max_age: float = 7 * 86400.0  # s; older messages are dropped


@dataclass(frozen=True)
class BridgeConfig:
    enabled: bool = False
    host: str | None = None  # upstream broker; required when enabled
    port: int = 1883
    transport: BridgeTransport = BridgeTransport.TCP
    websocket_path: str = "/mqtt"  # for wss
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # from !secret; never logged
    client_id: str | None = None  # None: bms-hub-{iot_device_id}
    keepalive: int = 30  # s
    ca_file: Path | None = None  # CA bundle for tls/wss; None: the system's
    cert_file: Path | None = None  # client certificate (with key_file)
    key_file: Path | None = None
    prefix: str = ""  # put before every local topic upstream, removed from topics coming down
    publish: tuple[str, ...] = ()  # local filters sent up; none: everything under this hub's prefix
    subscribe: tuple[str, ...] = ()  # local filters taken down; none: this hub's commands and site alerts
    backoff_initial: float = 1.0  # s before the first reconnect, doubling up to backoff_max
    backoff_max: float = 300.0
    spool: SpoolConfig = SpoolConfig()


@dataclass(frozen=True)
class StoreConfig:
    commit_interval: float = 5.0  # s between commits: few big commits spare SD cards
    batch_size: int = 10_000  # queued samples that make the writer commit before the interval ends
    queue_limit: int = 200_000  # samples held while the disk is slow or full; beyond, dropped and counted
    raw_retention_hours: float = 24.0  # raw samples older than this are purged
    raw_retention_overrides: Mapping[str, float] = field(default_factory=dict)  # point id -> hours
    rollup_retention_days: float = 30.0  # 15- and 30-minute rollups older than this are purged
    event_retention_days: float = 30.0  # events (audit, activity, closed alarms) older than this are purged


@dataclass(frozen=True)
class FlowsConfig:
    directories: tuple[Path, ...] = (Path("blueprints"), Path("flows"))  # the last one receives deploys
    trace_depth: int = 10  # runs kept per flow in its traces (0: none)
    hot_reload: bool = True  # reload flows when their files change on disk
    reload_debounce: float = 1.0  # s without further changes before a reload
    reload_poll_interval: float = 2.0  # s between checks of the files' modification times


@dataclass(frozen=True)
class HubConfig:
    data_dir: Path = Path("data")
    log_level: LogLevel = LogLevel.INFO
    http: HttpConfig = HttpConfig()
    mqtt: MqttConfig = MqttConfig()
    identity: IdentityConfig = IdentityConfig()
    polling: PollingConfig = PollingConfig()
    mqtt_api: MqttApiConfig = MqttApiConfig()
    bridge: BridgeConfig = BridgeConfig()
    store: StoreConfig = StoreConfig()
    auth: AuthConfig = field(default_factory=AuthConfig)
    alarms: AlarmsConfig = field(default_factory=AlarmsConfig)
    flows: FlowsConfig = FlowsConfig()
    integrations: Mapping[str, Any] = field(default_factory=dict)  # domain -> raw config (issue 3)
    source: Path | None = None  # the file it was loaded from; None for the embedded default


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a config file, pointing at the line to fix."""

    file: Path
    line: int | None
    key: str  # e.g. "mqtt.users[0].password"; empty for the whole file
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else str(self.file)
        return ": ".join(part for part in (where, self.key, self.message) if part)


class ConfigError(Exception):
    """The config cannot be used; `issues` holds every problem found, in file order."""

    def __init__(self, issues: list[ConfigIssue] | tuple[ConfigIssue, ...]) -> None:
        self.issues = tuple(issues)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)


# Which dataclass each mapping in the file becomes ("*" is any list index). Used for
# "did you mean" hints and by the test that checks config.example.yaml documents every key.
SECTIONS: dict[tuple[str, ...], type] = {
    (): HubConfig,
    ("http",): HttpConfig,
    ("identity",): IdentityConfig,
    ("mqtt",): MqttConfig,
    ("mqtt", "tcp"): TcpListenerConfig,
    ("mqtt", "users", "*"): MqttUser,
    ("polling",): PollingConfig,
    ("store",): StoreConfig,
    ("flows",): FlowsConfig,
    ("mqtt_api",): MqttApiConfig,
    ("bridge",): BridgeConfig,
    ("bridge", "spool"): SpoolConfig,
    ("auth",): AuthConfig,
    ("alarms",): AlarmsConfig,
    ("alarms", "limits", "*"): LimitRule,
    ("alarms", "stale"): StaleRule,
    ("alarms", "device_offline"): SourceRule,
    ("alarms", "write_failed"): SourceRule,
    ("alarms", "flow_error"): SourceRule,
    ("alarms", "notifications"): NotificationsConfig,
    ("alarms", "notifications", "rate_limit"): RateLimit,
    ("alarms", "notifications", "webhook"): WebhookConfig,
    ("alarms", "notifications", "email"): EmailConfig,
    ("alarms", "status_cards", "*"): StatusCard,
    ("alarms", "status_cards", "*", "points", "*"): CardPoint,
}


# --- validators: each raises "expected ..." and `_issue()` appends what was given ---


def integer(minimum: int, maximum: int | None = None) -> Callable[[Any], int]:
    """Validate an int in a range (YAML `true` is not an int here)."""
    wanted = f"int between {minimum} and {maximum}" if maximum is not None else f"int >= {minimum}"

    def validate(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise vol.Invalid(f"expected {wanted}")
        if maximum is not None and value > maximum:
            raise vol.Invalid(f"expected {wanted}")
        return value

    return validate


def number(minimum: float, maximum: float, what: str = "a number") -> Callable[[Any], float]:
    """Validate an int or float in a range (YAML `true` is not a number here)."""

    def validate(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not minimum <= value <= maximum:
            raise vol.Invalid(f"expected {what} between {minimum:g} and {maximum:g}")
        return float(value)

    return validate


def seconds(minimum: float, maximum: float) -> Callable[[Any], float]:
    """Validate a duration in seconds, int or float."""
    return number(minimum, maximum, "a number of seconds")


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise vol.Invalid("expected true or false")
    return value


def string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("expected a non-empty string")
    return value


def directory(value: Any) -> Path:
    """Validate a folder path; a relative one is made relative to the config file later."""
    return Path(string(value)).expanduser()


def identifier(value: Any) -> str | None:
    """Validate an id used in MQTT topics: no '/', '+' or '#' can slip in."""
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise vol.Invalid("expected 1 to 64 letters, digits, '_' or '-'")
    return value


def time_zone(value: Any) -> str:
    """Validate an IANA time zone name the system's zone database knows."""
    try:
        zoneinfo.ZoneInfo(string(value))
    except (vol.Invalid, zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise vol.Invalid("expected an IANA time zone such as Europe/London or UTC") from None
    return value


def topic_filter(value: Any) -> str:
    if not isinstance(value, str):
        raise vol.Invalid("expected an MQTT topic filter (a string such as 'site/+/temp/#')")
    problem = topic_filter_problem(value)
    if problem:
        raise vol.Invalid(f"expected an MQTT topic filter ({problem})")
    return value


def log_level(value: Any) -> LogLevel:
    if isinstance(value, str) and value.lower() in set(LogLevel):
        return LogLevel(value.lower())
    raise vol.Invalid(f"expected one of {', '.join(LogLevel)}")


def each(validator: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, ...]]:
    """Validate every item of a list (a single value counts as a one-item list).

    Unlike voluptuous' own list schema, this reports the errors of *every* item.
    """

    def validate(value: Any) -> tuple[Any, ...]:
        if value is None:
            return ()
        single = not isinstance(value, list)
        out, errors = [], []
        for index, item in enumerate([value] if single else value):
            try:
                out.append(validator(item))
            except vol.Invalid as exc:
                exc.prepend([] if single else [index])  # a lone value's errors point at it
                errors.extend(exc.errors if isinstance(exc, vol.MultipleInvalid) else [exc])
        if errors:
            raise vol.MultipleInvalid(errors)
        return tuple(out)

    return validate


def section(schema: vol.Schema, build: Callable[..., Any]) -> Callable[[Any], Any]:
    """Validate a mapping (empty when left blank) and build its dataclass."""
    return vol.All(lambda value: {} if value is None else value, schema, lambda valid: build(**valid))


def mqtt_users(value: Any) -> tuple[MqttUser, ...]:
    """Validate the users; refuse two with one name (the broker could not tell them apart)."""
    errors = []
    try:
        users = each(section(USER_SCHEMA, MqttUser))(value)
    except vol.MultipleInvalid as exc:
        errors.extend(exc.errors)
    seen: dict[str, int] = {}
    for index, user in enumerate(value if isinstance(value, list) else []):
        name = user.get("username") if isinstance(user, dict) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            hidden = isinstance(user, MarkedDict) and "username" in user.secret_keys
            shown = "" if hidden else f" '{name}'"
            message = f"duplicate username{shown}, already used by users[{seen[name]}]"
            errors.append(vol.Invalid(message, [index, "username"]))
        seen.setdefault(name, index)
    if errors:
        raise vol.MultipleInvalid(errors)
    return users


def integrations(value: Any) -> Mapping[str, Any]:
    """Accept any mapping of domain -> config for now; each integration validates its own."""
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, dict):
        raise vol.Invalid("expected a mapping of integration domain -> its config")
    errors = [
        vol.Invalid("unknown key: an integration domain is lower-case letters, digits and '_'", [key])
        for key in value
        if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", key)
    ]
    if errors:
        raise vol.MultipleInvalid(errors)
    return MappingProxyType(dict(value))


# --- schema, built from small shared pieces ---

PORT = integer(1, 65535)
HOST = string
TOPIC_FILTERS = each(topic_filter)

LISTENER_SCHEMA = vol.Schema({vol.Optional("host"): HOST, vol.Optional("port"): PORT})

USER_SCHEMA = vol.Schema(
    {
        vol.Required("username"): string,
        vol.Required("password"): string,
        vol.Optional("publish"): TOPIC_FILTERS,
        vol.Optional("subscribe"): TOPIC_FILTERS,
        vol.Optional("deny"): TOPIC_FILTERS,
    }
)

MQTT_SCHEMA = vol.Schema(
    {
        vol.Optional("users"): mqtt_users,
        vol.Optional("allow_anonymous"): boolean,
        vol.Optional("tcp"): section(
            LISTENER_SCHEMA.extend({vol.Optional("enabled"): boolean}), TcpListenerConfig
        ),
        vol.Optional("max_packet_size"): integer(1024, 268_435_455),
        vol.Optional("connect_timeout"): seconds(0.1, 3600),
        vol.Optional("client_queue_limit"): integer(1),
        vol.Optional("qos1_backlog_limit"): integer(1),
        vol.Optional("heartbeat_interval"): seconds(1, 86400),
    }
)

IDENTITY_SCHEMA = vol.Schema(
    {vol.Optional(key): identifier for key in ("org_id", "site_id", "iot_device_id")}
).extend({vol.Optional("timezone"): time_zone})

POLLING_SCHEMA = vol.Schema(
    {
        vol.Optional("stale_factor"): number(1, 100),
        vol.Optional("max_backoff"): seconds(1, 86400),
        vol.Optional("read_timeout"): seconds(0.1, 600),
    }
)


def retention_overrides(value: Any) -> Mapping[str, float]:
    """Validate a mapping of point id -> hours of raw samples to keep for that point."""
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, dict):
        raise vol.Invalid("expected a mapping of point id -> hours")
    hours = number(0.01, 87_600, "a number of hours")
    out, errors = {}, []
    for key, item in value.items():
        try:
            out[string(key)] = hours(item)
        except vol.Invalid as exc:
            errors.append(vol.Invalid(exc.msg, [key]))
    if errors:
        raise vol.MultipleInvalid(errors)
    return MappingProxyType(out)


FLOWS_SCHEMA = vol.Schema(
    {
        vol.Optional("directories"): each(directory),
        vol.Optional("trace_depth"): integer(0, 10_000),
        vol.Optional("hot_reload"): boolean,
        vol.Optional("reload_debounce"): seconds(0, 3600),
        vol.Optional("reload_poll_interval"): seconds(0.1, 3600),
    }
)

STORE_SCHEMA = vol.Schema(
    {
        vol.Optional("commit_interval"): seconds(0.05, 3600),
        vol.Optional("batch_size"): integer(1, 1_000_000),
        vol.Optional("queue_limit"): integer(1000),
        vol.Optional("raw_retention_hours"): number(0.01, 87_600, "a number of hours"),
        vol.Optional("raw_retention_overrides"): retention_overrides,
        vol.Optional("rollup_retention_days"): number(1, 3650, "a number of days"),
        vol.Optional("event_retention_days"): number(1, 3650, "a number of days"),
    }
)

MQTT_API_SCHEMA = vol.Schema(
    {
        vol.Optional("batch_interval"): seconds(1, 86400),
        vol.Optional("max_batch_size"): integer(1, 100_000),
        vol.Optional("controller_id"): identifier,
    }
)


def optional(validator: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Accept a blank value (None) or one that passes `validator`."""
    return lambda value: None if value is None else validator(value)


def topic_prefix(value: Any) -> str:
    """Validate a topic prefix: empty, or topic levels without wildcards."""
    if value is None:
        return ""
    if not isinstance(value, str) or "+" in value or "#" in value or "\x00" in value:
        raise vol.Invalid("expected a topic prefix without '+', '#' or NUL, such as 'sites/'")
    return value


def bridge_transport(value: Any) -> BridgeTransport:
    if isinstance(value, str) and value.lower() in set(BridgeTransport):
        return BridgeTransport(value.lower())
    raise vol.Invalid(f"expected one of {', '.join(BridgeTransport)}")


SPOOL_SCHEMA = vol.Schema(
    {
        vol.Optional("max_messages"): integer(1),
        vol.Optional("max_bytes"): integer(1024),
        vol.Optional("max_age"): seconds(1, 365 * 86400),
    }
)

BRIDGE_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled"): boolean,
        vol.Optional("host"): optional(HOST),
        vol.Optional("port"): PORT,
        vol.Optional("transport"): bridge_transport,
        vol.Optional("websocket_path"): string,
        vol.Optional("username"): optional(string),
        vol.Optional("password"): optional(string),
        vol.Optional("client_id"): optional(string),
        vol.Optional("keepalive"): integer(5, 3600),
        vol.Optional("ca_file"): optional(directory),
        vol.Optional("cert_file"): optional(directory),
        vol.Optional("key_file"): optional(directory),
        vol.Optional("prefix"): topic_prefix,
        vol.Optional("publish"): TOPIC_FILTERS,
        vol.Optional("subscribe"): TOPIC_FILTERS,
        vol.Optional("backoff_initial"): seconds(0.1, 3600),
        vol.Optional("backoff_max"): seconds(1, 86400),
        vol.Optional("spool"): section(SPOOL_SCHEMA, SpoolConfig),
    }
)


def alarms_section(value: Any) -> AlarmsConfig:
    """Validate `alarms:` with hub.alarms.schema (imported here: that schema is built from this module)."""
    from hub.alarms.schema import alarms_section as validate

    return validate(value)


def bridge_section(value: Any) -> BridgeConfig:
    """Validate the bridge; an enabled one needs a host (reported with the other problems, at `enabled`)."""
    errors = []
    try:
        bridge = section(BRIDGE_SCHEMA, BridgeConfig)(value)
    except vol.MultipleInvalid as exc:
        errors.extend(exc.errors)
    if isinstance(value, dict) and value.get("enabled") is True and value.get("host") is None:
        errors.append(vol.Invalid("an enabled bridge needs `host`, the upstream broker", ["enabled"]))
    if errors:
        raise vol.MultipleInvalid(errors)
    return bridge


def cookie_security(value: Any) -> CookieSecurity:
    if isinstance(value, str) and value in set(CookieSecurity):
        return CookieSecurity(value)
    raise vol.Invalid(f"expected one of {', '.join(CookieSecurity)}")


AUTH_SCHEMA = vol.Schema(
    {
        vol.Optional("session_idle_timeout"): seconds(60, 30 * 86400),
        vol.Optional("session_max_age"): seconds(60, 365 * 86400),
        vol.Optional("secure_cookies"): cookie_security,
        vol.Optional("lockout_failures"): integer(1, 1000),
        vol.Optional("lockout_window"): seconds(1, 86400),
        vol.Optional("lockout_duration"): seconds(1, 86400),
        vol.Optional("mqtt_credentials_ttl"): seconds(10, 86400),
        vol.Optional("admin_password_env"): string,
        vol.Optional("admin_password_file"): optional(directory),
        vol.Optional("secret_key_env"): string,
        vol.Optional("hash_time_cost"): integer(1, 10),
        vol.Optional("hash_memory_kib"): integer(1024, 4 * 1024 * 1024),
    }
)


CONFIG_SCHEMA = vol.Schema(
    {
        vol.Optional("data_dir"): directory,
        vol.Optional("log_level"): log_level,
        vol.Optional("http"): section(LISTENER_SCHEMA, HttpConfig),
        vol.Optional("identity"): section(IDENTITY_SCHEMA, IdentityConfig),
        vol.Optional("polling"): section(POLLING_SCHEMA, PollingConfig),
        vol.Optional("store"): section(STORE_SCHEMA, StoreConfig),
        vol.Optional("mqtt"): section(MQTT_SCHEMA, MqttConfig),
        vol.Optional("mqtt_api"): section(MQTT_API_SCHEMA, MqttApiConfig),
        vol.Optional("bridge"): bridge_section,
        vol.Optional("auth"): section(AUTH_SCHEMA, AuthConfig),
        vol.Optional("alarms"): alarms_section,
        vol.Optional("flows"): section(FLOWS_SCHEMA, FlowsConfig),
        vol.Optional("integrations"): integrations,
    }
)


# --- loading ---


def default_config() -> HubConfig:
    """Return the config used when no file is given: data in ./data, HTTP on 8080, no MQTT users."""
    return HubConfig()


def load_config(path: Path | str) -> HubConfig:
    """Load, check and return the config in `path`; raise ConfigError listing every problem."""
    path = Path(path)
    raw, files = load_yaml(path)
    issues: list[ConfigIssue] = []
    seen: set[Problem] = set()  # a broken secrets.yaml is reported once, not once per !secret
    for where, problem in iter_problems(raw):
        if problem not in seen:
            seen.add(problem)
            issues.append(
                ConfigIssue(problem.mark.file, problem.mark.line, locate(raw, where).key, problem.message)
            )
    valid: dict[str, Any] = {}
    if not isinstance(raw, Unresolved):
        try:
            valid = CONFIG_SCHEMA(MarkedDict() if raw is None else raw)
        except vol.MultipleInvalid as exc:
            issues.extend(issue for error in exc.errors if (issue := _issue(error, raw, path)))
    if issues:
        order = {file: index for index, file in reversed(list(enumerate(files)))}
        ranked = sorted(issues, key=lambda i: (order.get(i.file, len(order)), i.line or 0, i.key))
        raise ConfigError(ranked)
    data_dir = valid.pop("data_dir", HubConfig.data_dir)
    source = path.resolve()
    return HubConfig(**valid, data_dir=(source.parent / data_dir).resolve(), source=source)


def schema_issues(error: vol.Invalid, raw: Any, path: Path, prefix: Sequence[Any] = ()) -> list[ConfigIssue]:
    """Turn errors of a schema applied to the part of `raw` at `prefix` (an integration's) into issues."""
    errors = error.errors if isinstance(error, vol.MultipleInvalid) else [error]
    issues = []
    for each_error in errors:
        each_error.prepend(list(prefix))
        if issue := _issue(each_error, raw, path):
            issues.append(issue)
    return issues


def _issue(error: vol.Invalid, raw: Any, path: Path) -> ConfigIssue | None:
    """Turn one voluptuous error into a ConfigIssue at the line the user must change."""
    where = locate(raw, error.path)
    message = error.error_message
    if message == "extra keys not allowed":
        mark, message = where.key_mark, _unknown_key(error.path)
    elif message == "required key not provided":
        mark, message = where.key_mark, "required key missing"
    else:
        if isinstance(where.value, Unresolved):
            return None  # the load problem behind it is already reported
        mark = where.value_mark
        message = message.replace("expected a dictionary", "expected a mapping")
        if message.startswith("expected") and where.exists:
            message += f", got {_describe(where.value, where.secret)}"
    mark = mark or Mark(path, None)
    return ConfigIssue(mark.file, mark.line, where.key, message)


def _unknown_key(path: list[Any]) -> str:
    shape = tuple("*" if isinstance(part, int) else part for part in path[:-1])
    known = SECTIONS.get(shape)
    if known is None:
        return "unknown key"
    allowed = [f.name for f in fields(known) if f.name != "source"]
    close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
    return (
        f"unknown key (did you mean '{close[0]}'?)"
        if close
        else f"unknown key (expected one of: {', '.join(allowed)})"
    )


def _describe(value: Any, secret: bool) -> str:
    """Say what was given, in YAML terms; a secret's value is never shown."""
    kind = (
        "a mapping" if isinstance(value, dict)
        else "a list" if isinstance(value, list)
        else "nothing" if value is None
        else "true/false" if isinstance(value, bool)
        else "a number" if isinstance(value, int | float)
        else "a string" if isinstance(value, str)
        else f"a {type(value).__name__}"
    )  # fmt: skip
    if secret:
        return f"{kind} from !secret (value hidden)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, int | float):
        return str(value)
    return kind
