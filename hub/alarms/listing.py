"""The alarm console's queries: filter, sort and page the alarm list, and count it for the site header."""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from hub.alarms.model import SEVERITY_RANK, Alarm, AlarmState, Severity, SourceKind


class SortKey(StrEnum):
    SEVERITY = "severity"  # critical first, newest first within a severity
    RAISED_AT = "raised_at"
    UPDATED_AT = "updated_at"
    STATE = "state"
    SOURCE = "source"
    SUBJECT = "subject"  # the point, device or flow
    ID = "id"


_STATE_RANK = {state: rank for rank, state in enumerate(AlarmState)}
_KEYS: dict[SortKey, Callable[[Alarm], object]] = {
    SortKey.SEVERITY: lambda a: (SEVERITY_RANK[a.severity], -a.updated_at),
    SortKey.RAISED_AT: lambda a: a.raised_at,
    SortKey.UPDATED_AT: lambda a: a.updated_at,
    SortKey.STATE: lambda a: (_STATE_RANK[a.state], SEVERITY_RANK[a.severity]),
    SortKey.SOURCE: lambda a: (a.source, a.subject),
    SortKey.SUBJECT: lambda a: (a.subject, a.id),
    SortKey.ID: lambda a: a.id,
}


@dataclass(frozen=True)
class AlarmQuery:
    """Which alarms, in which order, which page; empty filters match everything."""

    states: frozenset[AlarmState] = frozenset()
    severities: frozenset[Severity] = frozenset()
    sources: frozenset[SourceKind] = frozenset()
    subjects: frozenset[str] = frozenset()  # point, device or flow ids
    shelved: bool | None = None
    sort: SortKey = SortKey.SEVERITY
    descending: bool = False
    limit: int = 100
    offset: int = 0

    def matches(self, alarm: Alarm, now: float) -> bool:
        return (
            (not self.states or alarm.state in self.states)
            and (not self.severities or alarm.severity in self.severities)
            and (not self.sources or alarm.source in self.sources)
            and (not self.subjects or alarm.subject in self.subjects)
            and (self.shelved is None or alarm.shelved(now) == self.shelved)
        )


def select(alarms: Iterable[Alarm], query: AlarmQuery, now: float) -> tuple[list[Alarm], int]:
    """One page of the matching alarms, and how many match in all."""
    found = sorted(
        (a for a in alarms if query.matches(a, now)), key=_KEYS[query.sort], reverse=query.descending
    )
    return found[query.offset : query.offset + query.limit], len(found)


def counts(alarms: Iterable[Alarm], now: float) -> dict[str, object]:
    """Figures for the site header: active and unacknowledged alarms, by state and by severity.

    By severity counts only the alarms that are not shelved: shelving takes an alarm out of the
    operator's attention (ISA-18.2), so a shelved critical alarm shows as shelved, not as critical.
    """
    listed = list(alarms)
    active = [a for a in listed if a.state.active]
    attention = [a for a in active if not a.shelved(now)]
    return {
        "active": len(active),
        "unacknowledged": sum(1 for a in listed if a.state.unacked),
        "shelved": sum(1 for a in listed if a.shelved(now) and a.state is not AlarmState.NORMAL),
        "by_state": {
            str(s): n for s, n in Counter(a.state for a in listed).items() if s is not AlarmState.NORMAL
        },
        "active_by_severity": {str(s): sum(1 for a in attention if a.severity is s) for s in Severity},
    }
