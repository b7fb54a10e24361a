"""BACnet-style command priority arrays, and the checks a write must pass before it lands in one."""

from hub.integration import WriteError
from hub.points import Point, PointKind, Value

PRIORITY_LEVELS = 16
_TAKES = {  # what a write to each kind of simulated point may carry
    PointKind.ANALOG: "a number",
    PointKind.BINARY: "true/false or 0/1",
    PointKind.MULTISTATE: "an integer state",
}


class PriorityArray:
    """Sixteen command slots over a relinquish default; the highest non-empty priority (1) wins."""

    __slots__ = ("_slots", "relinquish_default")

    def __init__(self, relinquish_default: Value) -> None:
        self._slots: list[Value] = [None] * PRIORITY_LEVELS
        self.relinquish_default = relinquish_default

    @property
    def effective(self) -> Value:
        """What the equipment does: the highest-priority command, else the relinquish default."""
        for value in self._slots:
            if value is not None:
                return value
        return self.relinquish_default

    @property
    def active_priority(self) -> int | None:
        """The priority that holds the point, or None when it runs on its relinquish default."""
        return next((index + 1 for index, value in enumerate(self._slots) if value is not None), None)

    def command(self, priority: int, value: Value) -> None:
        """Fill (or with None, relinquish) one slot; the caller has checked both."""
        self._slots[priority - 1] = value

    def slots(self) -> tuple[Value, ...]:
        """The sixteen slots, priority 1 first."""
        return tuple(self._slots)


def checked_write(point: Point, value: Value, priority: int) -> Value:
    """The value to store for a write, in the point's own type; raise WriteError saying why it is refused."""
    if not point.writable:
        raise WriteError(f"{point.id} is read-only")
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= PRIORITY_LEVELS:
        raise WriteError(f"priority {priority!r} is outside 1..{PRIORITY_LEVELS}")
    if value is None:
        return None
    converted = _as_kind(point, value)
    problem = point.limits.problem(converted)
    if problem is not None:
        raise WriteError(f"{point.id}: {problem}")
    return converted


def _as_kind(point: Point, value: Value) -> Value:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if point.kind == PointKind.ANALOG and is_number:
        return float(value)  # type: ignore[arg-type]
    if point.kind == PointKind.BINARY and (isinstance(value, bool) or (is_number and value in (0, 1))):
        return bool(value)
    if point.kind == PointKind.MULTISTATE and isinstance(value, int) and not isinstance(value, bool):
        return value
    raise WriteError(f"{point.id} takes {_TAKES.get(point.kind, 'no writes')}, not {value!r}")
