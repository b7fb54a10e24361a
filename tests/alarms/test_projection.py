"""The alarm state machine as a pure fold: transitions, no-ops and replay."""

import pytest

from hub.alarms.model import AlarmEvent, AlarmState, EventKind, Severity, SourceKind
from hub.alarms.projection import Projection

T = 1000.0
RAISE = AlarmEvent(EventKind.RAISED, "a", T, source=SourceKind.FLOW, subject="f", severity=Severity.MAJOR)


def event(kind: EventKind, at: float = T + 1, **fields: object) -> AlarmEvent:
    return AlarmEvent(kind, "a", at, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kinds", "state"),
    [
        ((), AlarmState.ACTIVE_UNACKED),
        ((EventKind.ACKNOWLEDGED,), AlarmState.ACTIVE_ACKED),
        ((EventKind.CLEARED,), AlarmState.CLEARED_UNACKED),
        ((EventKind.ACKNOWLEDGED, EventKind.CLEARED), AlarmState.NORMAL),
        ((EventKind.CLEARED, EventKind.ACKNOWLEDGED), AlarmState.NORMAL),
        ((EventKind.RESOLVED,), AlarmState.NORMAL),
        ((EventKind.CLEARED, EventKind.RAISED), AlarmState.ACTIVE_UNACKED),
        ((EventKind.ACKNOWLEDGED, EventKind.ACKNOWLEDGED), AlarmState.ACTIVE_ACKED),
    ],
)
def test_transitions(kinds: tuple[EventKind, ...], state: AlarmState) -> None:
    projection = Projection()
    projection.apply(RAISE)
    for kind in kinds:
        projection.apply(RAISE if kind is EventKind.RAISED else event(kind))
    alarm = projection.get("a")
    assert alarm is not None
    assert alarm.state is state


def test_no_op_events_report_no_change() -> None:
    projection = Projection()
    assert projection.apply(event(EventKind.ACKNOWLEDGED)) is None  # never raised
    assert projection.apply(RAISE) is not None
    assert projection.apply(RAISE) is None  # already active
    assert projection.apply(event(EventKind.UNSHELVED)) is None  # not shelved
    assert projection.apply(event(EventKind.ACKNOWLEDGED, actor="ann")) is not None
    assert projection.apply(event(EventKind.ACKNOWLEDGED, actor="bob")) is None
    alarm = projection.get("a")
    assert alarm is not None
    assert alarm.acked_by == "ann"


def test_shelving_survives_a_re_raise_and_ends_with_its_window() -> None:
    projection = Projection()
    projection.apply(RAISE)
    projection.apply(event(EventKind.SHELVED, until=T + 100, message="maintenance"))
    projection.apply(event(EventKind.CLEARED))
    projection.apply(RAISE)
    alarm = projection.get("a")
    assert alarm is not None
    assert alarm.raise_count == 2
    assert alarm.shelved(T + 99)
    assert alarm.shelve_reason == "maintenance"
    assert not alarm.shelved(T + 100)


def test_a_repeated_dedupe_key_is_applied_once() -> None:
    projection = Projection()
    projection.apply(RAISE)
    assert projection.apply(event(EventKind.ACKNOWLEDGED, dedupe_key="cmd-1")) is not None
    projection.apply(event(EventKind.CLEARED))
    projection.apply(RAISE)  # a new occurrence: a late copy of cmd-1 must not acknowledge it
    assert projection.apply(event(EventKind.ACKNOWLEDGED, dedupe_key="cmd-1")) is None
    alarm = projection.get("a")
    assert alarm is not None
    assert alarm.state is AlarmState.ACTIVE_UNACKED


def test_json_round_trip() -> None:
    shelve = event(EventKind.SHELVED, until=T + 5, message="why", actor="ann", dedupe_key="k", value=1.5)
    assert AlarmEvent.from_json(shelve.as_json()) == shelve
    assert AlarmEvent.from_json(RAISE.as_json()) == RAISE
