"""The `integrations: bacnet:` settings: where to bind, BBMD registration, timeouts, devices to poll."""

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import voluptuous as vol
from bacpypes3.primitivedata import ObjectType

from hub.config import boolean, each, integer, seconds, section

DEFAULT_PORT = 47808
MAX_INSTANCE = 4194302  # 4194303 is the "any device" wildcard


class CovMode(StrEnum):
    """Whether a device's points are asked to push changes, and how they are acknowledged."""

    OFF = "off"
    UNCONFIRMED = "unconfirmed"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class ForeignDeviceConfig:
    """Registration with a BBMD, for when the hub is not on the devices' subnet."""

    bbmd: str  # "host" or "host:port"
    ttl: int = 300  # seconds; bacpypes3 re-registers before it runs out


@dataclass(frozen=True)
class ObjectConfig:
    """Settings for some objects of a device (one object, or every object of a type)."""

    cov: CovMode | None = None  # None: the device's cov setting


@dataclass(frozen=True)
class DeviceConfig:
    """One device to poll; without an address it is found by a Who-Is for its instance."""

    instance: int
    address: str = ""
    name: str = ""
    poll_interval: float | None = None  # None: the integration's poll_interval
    cov: CovMode | None = None  # None: the integration's cov setting
    cov_lifetime: int | None = None
    cov_poll_interval: float | None = None  # None: the integration's cov_poll_interval
    objects: Mapping[str, ObjectConfig] = field(default_factory=dict)  # "analogInput" or "analogInput:1"

    def cov_for(self, address: str, default: CovMode) -> CovMode:
        """The COV mode of the object at `address` (`analogInput:1`): its own, its type's, the device's."""
        kind = address.partition(":")[0]
        for chosen in (self.objects.get(address), self.objects.get(kind)):
            if chosen is not None and chosen.cov is not None:
                return chosen.cov
        return self.cov or default


@dataclass(frozen=True)
class BacnetConfig:
    """The validated settings."""

    address: ipaddress.IPv4Interface  # the interface to bind, with its prefix (for the broadcast address)
    port: int = DEFAULT_PORT
    device_instance: int = 4194300  # the hub's own BACnet device
    foreign_device: ForeignDeviceConfig | None = None
    timeout: float = 3.0  # seconds one request may take
    max_concurrent: int = 2  # requests in flight to one device
    poll_interval: float = 10.0
    cov: CovMode = CovMode.OFF
    cov_lifetime: int = 300  # seconds; subscriptions are renewed at half their lifetime
    cov_poll_interval: float = 300.0  # seconds between safety polls of a point that pushes its changes
    poll_discovered: bool = False  # also poll every device discovery found (remembered across restarts)
    discovery_window: float = 5.0  # seconds to collect I-Ams
    devices: tuple[DeviceConfig, ...] = ()

    @classmethod
    def from_validated(cls, config: Mapping[str, Any]) -> "BacnetConfig":
        """Build from what CONFIG_SCHEMA returned."""
        return cls(**config)

    @property
    def bind_address(self) -> str:
        """The address bacpypes3 binds: `ip/prefix:port` (the prefix makes it listen for broadcasts too)."""
        return f"{self.address.ip}/{self.address.network.prefixlen}:{self.port}"


def interface(value: Any) -> ipaddress.IPv4Interface:
    """Validate `a.b.c.d/prefix`: the hub's own address and the subnet it broadcasts to."""
    if not isinstance(value, str) or "/" not in value:
        raise vol.Invalid("expected an IPv4 interface address with its prefix, such as 10.77.0.1/24")
    try:
        return ipaddress.IPv4Interface(value)
    except ValueError as err:
        raise vol.Invalid(f"expected an IPv4 interface address with its prefix ({err})") from None


def host_port(value: Any) -> str:
    """Validate `a.b.c.d` or `a.b.c.d:port`."""
    if not isinstance(value, str):
        raise vol.Invalid("expected an IPv4 address, optionally with :port")
    host, _, port = value.partition(":")
    try:
        ipaddress.IPv4Address(host)
        if port and not 1 <= int(port) <= 65535:
            raise ValueError(port)
    except ValueError:
        raise vol.Invalid("expected an IPv4 address, optionally with :port (1-65535)") from None
    return value


def cov_mode(value: Any) -> CovMode:
    if value is False:
        return CovMode.OFF
    if value is True:
        return CovMode.UNCONFIRMED
    if isinstance(value, str) and value in set(CovMode):
        return CovMode(value)
    raise vol.Invalid(f"expected one of {', '.join(CovMode)} (or true/false)")


def object_selector(value: Any) -> str:
    """Validate `objectType` (every object of the type) or `objectType:instance` (one object)."""
    kind, colon, instance = value.partition(":") if isinstance(value, str) else ("", "", "")
    expected = "an object type such as analogInput, or one object such as analogInput:1"
    try:
        ObjectType(kind)
    except ValueError:
        raise vol.Invalid(f"expected {expected}") from None
    if colon and not (instance.isdigit() and int(instance) <= MAX_INSTANCE):
        raise vol.Invalid(f"expected {expected} (instance 0-{MAX_INSTANCE})")
    return value


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise vol.Invalid("expected a string")
    return value


INSTANCE = integer(0, MAX_INSTANCE)
LIFETIME = integer(0, 86400)

OBJECT_SCHEMA = vol.Schema({vol.Optional("cov"): cov_mode})


def objects(value: Any) -> Mapping[str, ObjectConfig]:
    """Validate `{selector: {cov: ...}}`, reporting every bad selector and setting."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise vol.Invalid("expected a mapping of objectType or objectType:instance -> its settings")
    validate = section(OBJECT_SCHEMA, ObjectConfig)
    out, errors = {}, []
    for key, item in value.items():
        try:
            selector = object_selector(key)
        except vol.Invalid as exc:  # said of the key, not of its (mapping) value
            errors.append(vol.Invalid(f"{key!r} is not {exc.msg.removeprefix('expected ')}", [key]))
            continue
        try:
            out[selector] = validate(item)
        except vol.MultipleInvalid as exc:
            errors.extend(vol.Invalid(e.msg, [key, *e.path]) for e in exc.errors)
        except vol.Invalid as exc:
            errors.append(vol.Invalid(exc.msg, [key, *exc.path]))
    if errors:
        raise vol.MultipleInvalid(errors)
    return out


DEVICE_SCHEMA = vol.Schema(
    {
        vol.Required("instance"): INSTANCE,
        vol.Optional("address"): host_port,
        vol.Optional("name"): _name,
        vol.Optional("poll_interval"): seconds(0.1, 86400),
        vol.Optional("cov"): cov_mode,
        vol.Optional("cov_lifetime"): LIFETIME,
        vol.Optional("cov_poll_interval"): seconds(0.1, 86400),
        vol.Optional("objects"): objects,
    }
)
FOREIGN_SCHEMA = vol.Schema({vol.Required("bbmd"): host_port, vol.Optional("ttl"): integer(30, 65535)})
CONFIG_SCHEMA = vol.Schema(
    {
        vol.Required("address"): interface,
        vol.Optional("port"): integer(1, 65535),
        vol.Optional("device_instance"): INSTANCE,
        vol.Optional("foreign_device"): section(FOREIGN_SCHEMA, ForeignDeviceConfig),
        vol.Optional("timeout"): seconds(0.1, 60),
        vol.Optional("max_concurrent"): integer(1, 16),
        vol.Optional("poll_interval"): seconds(0.1, 86400),
        vol.Optional("cov"): cov_mode,
        vol.Optional("cov_lifetime"): LIFETIME,
        vol.Optional("cov_poll_interval"): seconds(0.1, 86400),
        vol.Optional("poll_discovered"): boolean,
        vol.Optional("discovery_window"): seconds(0.1, 600),
        vol.Optional("devices"): each(section(DEVICE_SCHEMA, DeviceConfig)),
    }
)
