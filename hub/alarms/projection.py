"""The current alarm list as a pure fold over the history: replaying the same events gives the same list."""

from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType

from hub.alarms.model import Alarm, AlarmEvent, AlarmState, EventKind

_AFTER_CLEAR = {
    AlarmState.ACTIVE_UNACKED: AlarmState.CLEARED_UNACKED,
    AlarmState.ACTIVE_ACKED: AlarmState.NORMAL,
}
_AFTER_ACK = {
    AlarmState.ACTIVE_UNACKED: AlarmState.ACTIVE_ACKED,
    AlarmState.CLEARED_UNACKED: AlarmState.NORMAL,
}


def apply(alarm: Alarm | None, event: AlarmEvent) -> Alarm | None:
    """The alarm after `event`; the same object when the event changes nothing (a duplicate, say)."""
    if event.kind is EventKind.RAISED:
        return _raised(alarm, event)
    if alarm is None:
        return None  # an action on an alarm that was never raised changes nothing
    at = event.timestamp
    match event.kind:
        case EventKind.CLEARED if alarm.state in _AFTER_CLEAR:
            value = alarm.value if event.value is None else event.value  # a clear may not carry one
            return replace(alarm, state=_AFTER_CLEAR[alarm.state], cleared_at=at, updated_at=at, value=value)
        case EventKind.ACKNOWLEDGED if alarm.state in _AFTER_ACK:
            return replace(
                alarm, state=_AFTER_ACK[alarm.state], acked_at=at, acked_by=event.actor, updated_at=at
            )
        case EventKind.RESOLVED if alarm.state is not AlarmState.NORMAL:
            return replace(alarm, state=AlarmState.NORMAL, cleared_at=alarm.cleared_at or at, updated_at=at)
        case EventKind.SHELVED if (alarm.shelved_until, alarm.shelve_reason) != (event.until, event.message):
            return replace(alarm, shelved_until=event.until, shelve_reason=event.message, updated_at=at)
        case EventKind.UNSHELVED if alarm.shelved_until is not None:
            return replace(alarm, shelved_until=None, shelve_reason=None, updated_at=at)
    return alarm


def _raised(alarm: Alarm | None, event: AlarmEvent) -> Alarm | None:
    if event.source is None or event.severity is None:
        return alarm  # not a well-formed raise: ignored, as on the live path
    if alarm is not None and alarm.state.active:
        return alarm  # already raised: the first raise's value and time stand
    return Alarm(
        id=event.alarm_id,
        source=event.source,
        subject=event.subject,
        severity=event.severity,
        state=AlarmState.ACTIVE_UNACKED,
        message=event.message,
        value=event.value,
        raised_at=event.timestamp,
        updated_at=event.timestamp,
        shelved_until=alarm.shelved_until if alarm else None,
        shelve_reason=alarm.shelve_reason if alarm else None,
        raise_count=alarm.raise_count + 1 if alarm else 1,
    )


class Projection:
    """The latest state of every alarm ever raised, and the external event keys already applied."""

    def __init__(self) -> None:
        self._alarms: dict[str, Alarm] = {}
        self._seen_keys: set[str] = set()

    @classmethod
    def replay(cls, events: Iterable[AlarmEvent]) -> "Projection":
        """Rebuild the projection from the history, oldest event first."""
        projection = cls()
        for event in events:
            projection.apply(event)
        return projection

    def apply(self, event: AlarmEvent) -> Alarm | None:
        """Fold one event in; returns the changed alarm, or None when the event changed nothing."""
        if event.dedupe_key is not None and event.dedupe_key in self._seen_keys:
            return None
        before = self._alarms.get(event.alarm_id)
        after = apply(before, event)
        if after is None or after is before:
            return None
        if event.dedupe_key is not None:
            self._seen_keys.add(event.dedupe_key)
        self._alarms[event.alarm_id] = after
        return after

    def get(self, alarm_id: str) -> Alarm | None:
        return self._alarms.get(alarm_id)

    @property
    def alarms(self) -> Mapping[str, Alarm]:
        return MappingProxyType(self._alarms)
