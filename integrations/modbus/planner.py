"""Read planning: the fewest requests that cover a set of points, bridging small gaps between them.

Per table, points are sorted by address and a request grows while the next point starts within
`max_gap` of its end and the request stays within the table's limit (125 registers, 2,000 bits).
Growing each request as far as it can go is optimal for intervals covered in address order.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import RegisterPoint, Table


@dataclass(frozen=True)
class ReadRequest:
    """One read request and the points it carries."""

    table: Table
    address: int
    count: int
    points: tuple[RegisterPoint, ...]

    def slice_of(self, point: RegisterPoint) -> slice:
        """Where the point's registers (or bits) sit in the response."""
        start = point.address - self.address
        return slice(start, start + point.count)


def plan_reads(points: Iterable[RegisterPoint], max_gap: int) -> list[ReadRequest]:
    """The requests to read `points`, fewest first by table then address."""
    by_table: dict[Table, list[RegisterPoint]] = {}
    for point in points:
        by_table.setdefault(point.table, []).append(point)
    requests: list[ReadRequest] = []
    for table in Table:
        if table in by_table:
            requests += _plan_table(table, sorted(by_table[table], key=lambda p: (p.address, p.end)), max_gap)
    return requests


def plan_alone(points: Iterable[RegisterPoint]) -> list[ReadRequest]:
    """One request per distinct location (bits of one register share it), bridging nothing."""
    spans: dict[tuple[Table, int, int], list[RegisterPoint]] = {}
    for point in points:
        spans.setdefault((point.table, point.address, point.count), []).append(point)
    return [ReadRequest(*span, tuple(members)) for span, members in spans.items()]


def _plan_table(table: Table, points: Sequence[RegisterPoint], max_gap: int) -> list[ReadRequest]:
    limit = table.request_limit
    requests: list[ReadRequest] = []
    start = end = 0
    members: list[RegisterPoint] = []
    for point in points:
        if members and point.address - end <= max_gap and max(end, point.end) - start <= limit:
            end = max(end, point.end)
            members.append(point)
            continue
        if members:
            requests.append(ReadRequest(table, start, end - start, tuple(members)))
        start, end, members = point.address, point.end, [point]
    if members:
        requests.append(ReadRequest(table, start, end - start, tuple(members)))
    return requests
