"""The alarm model: states, severities, sources and the transition events the history is made of."""

from dataclasses import dataclass
from enum import StrEnum

from hub.flows.node import AlarmSeverity as Severity

SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.MAJOR: 1, Severity.MINOR: 2, Severity.INFO: 3}


class AlarmState(StrEnum):
    ACTIVE_UNACKED = "active_unacked"
    ACTIVE_ACKED = "active_acked"
    CLEARED_UNACKED = "cleared_unacked"
    NORMAL = "normal"

    @property
    def active(self) -> bool:
        return self in (AlarmState.ACTIVE_UNACKED, AlarmState.ACTIVE_ACKED)

    @property
    def unacked(self) -> bool:
        return self in (AlarmState.ACTIVE_UNACKED, AlarmState.CLEARED_UNACKED)


class SourceKind(StrEnum):
    """What raised an alarm; it is also the first part of the alarm's id."""

    LIMIT = "limit"
    STALE = "stale"
    DEVICE_OFFLINE = "device_offline"
    WRITE_FAILED = "write_failed"
    FLOW_ERROR = "flow_error"
    FLOW = "flow"  # a flow's alarm node


class EventKind(StrEnum):
    RAISED = "raised"
    CLEARED = "cleared"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    SHELVED = "shelved"
    UNSHELVED = "unshelved"


@dataclass(frozen=True)
class AlarmEvent:
    """One transition of one alarm: who did it, when, and the value that caused it."""

    kind: EventKind
    alarm_id: str
    timestamp: float  # UTC epoch seconds
    actor: str = "system"
    source: SourceKind | None = None  # RAISED only
    subject: str = ""  # the point, device or flow the alarm is about (RAISED only)
    severity: Severity | None = None  # RAISED only
    message: str = ""
    value: object = None
    until: float | None = None  # SHELVED: shelved until this UTC epoch second
    dedupe_key: str | None = None  # an external event's id: the same key twice is applied once

    def as_json(self) -> dict[str, object]:
        """The event as stored in the events table and published on MQTT."""
        return {
            "kind": str(self.kind),
            "alarm_id": self.alarm_id,
            "timestamp": self.timestamp,
            "actor": self.actor,
            "source": None if self.source is None else str(self.source),
            "subject": self.subject,
            "severity": None if self.severity is None else str(self.severity),
            "message": self.message,
            "value": self.value,
            "until": self.until,
            "dedupe_key": self.dedupe_key,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> "AlarmEvent":
        """Read back what `as_json` wrote (ValueError or KeyError when it is not an alarm event)."""
        source, severity, until = data.get("source"), data.get("severity"), data.get("until")
        dedupe = data.get("dedupe_key")
        return cls(
            kind=EventKind(str(data["kind"])),
            alarm_id=str(data["alarm_id"]),
            timestamp=float(data["timestamp"]),  # type: ignore[arg-type]
            actor=str(data.get("actor") or "system"),
            source=None if source is None else SourceKind(str(source)),
            subject=str(data.get("subject") or ""),
            severity=None if severity is None else Severity(str(severity)),
            message=str(data.get("message") or ""),
            value=data.get("value"),
            until=None if until is None else float(until),  # type: ignore[arg-type]
            dedupe_key=None if dedupe is None else str(dedupe),
        )


@dataclass(frozen=True)
class Alarm:
    """The latest state of one alarm, folded from its events."""

    id: str
    source: SourceKind
    subject: str
    severity: Severity
    state: AlarmState
    message: str
    value: object
    raised_at: float
    updated_at: float
    cleared_at: float | None = None
    acked_at: float | None = None
    acked_by: str | None = None
    shelved_until: float | None = None
    shelve_reason: str | None = None
    raise_count: int = 1

    def shelved(self, now: float) -> bool:
        """Shelved alarms stay in the list but notify nobody until the window ends."""
        return self.shelved_until is not None and now < self.shelved_until

    def as_json(self, now: float) -> dict[str, object]:
        return {
            "id": self.id,
            "source": str(self.source),
            "subject": self.subject,
            "severity": str(self.severity),
            "state": str(self.state),
            "message": self.message,
            "value": self.value,
            "raised_at": self.raised_at,
            "updated_at": self.updated_at,
            "cleared_at": self.cleared_at,
            "acked_at": self.acked_at,
            "acked_by": self.acked_by,
            "shelved": self.shelved(now),
            "shelved_until": self.shelved_until if self.shelved(now) else None,
            "shelve_reason": self.shelve_reason if self.shelved(now) else None,
            "raise_count": self.raise_count,
        }


@dataclass(frozen=True)
class FlowErrored:
    """Published on the bus by the flow engine when a flow fails; it raises the flow's error alarm."""

    flow_id: str
    error: str


@dataclass(frozen=True)
class FlowRecovered:
    """Published on the bus by the flow engine when a failed flow runs again; it clears the alarm."""

    flow_id: str
