"""Two points of one device must not share registers (bits of one register may be split between points)."""

from collections.abc import Iterator, Sequence

from .model import RegisterPoint, Table

Conflict = tuple[int, str, str]  # index of the later point, the key to change, what is wrong


def point_conflicts(points: Sequence[RegisterPoint], first: int = 0) -> Iterator[Conflict]:
    """Conflicts of points[first:] with every earlier point (points before `first` are known good)."""
    used: dict[tuple[Table, int], dict[int | None, str]] = {}
    names: dict[str, int] = {}
    for index, point in enumerate(points):
        if index >= first and point.name in names:
            yield index, "name", f"duplicate name '{point.name}'"
            continue
        names.setdefault(point.name, index)
        clash = _clash(used, point)
        if index >= first and clash is not None:
            yield index, "address", f"{point.location} overlaps point '{clash}'"
            continue
        for register in range(point.address, point.end):
            used.setdefault((point.table, register), {})[point.bit] = point.name


def _clash(used: dict[tuple[Table, int], dict[int | None, str]], point: RegisterPoint) -> str | None:
    for register in range(point.address, point.end):
        holders = used.get((point.table, register))
        if not holders:
            continue
        if point.bit is None or None in holders:
            return next(iter(holders.values()))
        if point.bit in holders:
            return holders[point.bit]
    return None
