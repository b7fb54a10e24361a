"""What a BMS connection is: its settings, credentials, point mappings and activity, as frozen data."""

from dataclasses import dataclass
from enum import StrEnum

from hub.points import PointKind, Value

DEVICE_PREFIX = "bms-"  # a connection's device id, client id and user name: bms-{connection id}
DOMAIN_PREFIX = "bms."  # a connection's devices belong to the domain bms.{connection id}


class BmsType(StrEnum):
    """Which system publishes: it only changes the settings the docs and the UI suggest."""

    ECOSTRUXURE = "ecostruxure"
    WEBCTRL = "webctrl"
    GENERIC = "generic"


class Transport(StrEnum):
    """How the BMS reaches the broker."""

    WEBSOCKET = "websocket"  # ws(s)://HUB:PORT/mqtt, the HTTP port
    TCP = "tcp"  # the broker's TCP listener, when enabled


class EventType(StrEnum):
    """Kinds of entries in a connection's activity log (stored as events of kind `bms.<type>`)."""

    MESSAGE_RECEIVED = "message_received"
    CONNECTION_ESTABLISHED = "connection_established"
    CONNECTION_LOST = "connection_lost"
    ERROR = "error"
    CONFIG_CHANGED = "config_changed"
    UNMAPPED_POINT = "unmapped_point"
    VALIDATION_FAILED = "validation_failed"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


SEVERITIES = {
    EventType.MESSAGE_RECEIVED: Severity.INFO,
    EventType.CONNECTION_ESTABLISHED: Severity.INFO,
    EventType.CONNECTION_LOST: Severity.WARNING,
    EventType.ERROR: Severity.ERROR,
    EventType.CONFIG_CHANGED: Severity.INFO,
    EventType.UNMAPPED_POINT: Severity.WARNING,
    EventType.VALIDATION_FAILED: Severity.ERROR,
}


@dataclass(frozen=True)
class Connection:
    """One external system allowed to publish to `bms/{id}/readings`."""

    id: str
    name: str
    bms_type: BmsType
    transport: Transport
    description: str
    enabled: bool
    password_hash: str  # SHA-256 digest of the generated password, checked when the BMS connects
    password_secret: str  # the same password encrypted with the hub's SecretBox, for admins to reveal
    created_at: float  # UTC epoch seconds
    updated_at: float

    @property
    def username(self) -> str:
        return DEVICE_PREFIX + self.id

    @property
    def client_id(self) -> str:
        return DEVICE_PREFIX + self.id

    @property
    def topic(self) -> str:
        return f"bms/{self.id}/readings"

    @property
    def device_id(self) -> str:
        return DEVICE_PREFIX + self.id

    @property
    def domain(self) -> str:
        return DOMAIN_PREFIX + self.id


@dataclass(frozen=True)
class Mapping:
    """An external point id routed to a hub point, converting from `source_unit` to the point's units."""

    id: int
    connection_id: str
    external_id: str
    point_id: str
    source_unit: str  # what the BMS sends when a reading carries no unit; "" for none
    created_point: bool  # the hub point was made for this mapping (and goes with it)
    point_name: str  # for a created point: its name, to register it again on start
    point_units: str
    point_kind: PointKind


@dataclass(frozen=True)
class Unmapped:
    """An external point id the connection sent that no mapping routes yet."""

    external_id: str
    first_seen: float
    last_seen: float
    count: int
    last_value: Value
    last_unit: str


@dataclass(frozen=True)
class Reading:
    """One validated reading from a BMS message."""

    point_id: str  # the BMS's own id for the point
    value: Value
    unit: str  # "" when the message gave none
    timestamp: float  # UTC epoch seconds
    test: bool = False  # sent by the test button (or a BMS testing): reported, never stored
