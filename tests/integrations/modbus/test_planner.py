"""Read planning: the fewest requests, gaps bridged up to max_gap, never over a request's limit."""

from integrations.modbus.model import DataType, RegisterPoint, Table
from integrations.modbus.planner import plan_alone, plan_reads


def reg(
    name: str, address: int, kind: DataType = DataType.UINT16, table: Table = Table.HOLDING, **kw
) -> RegisterPoint:
    return RegisterPoint(name, table, address, kind, **kw)


def spans(requests) -> list[tuple[str, int, int]]:
    return [(str(r.table), r.address, r.count) for r in requests]


def test_plan__bridges_gaps_up_to_max_gap():
    points = [reg("a", 0, DataType.FLOAT32), reg("b", 10), reg("c", 20), reg("d", 30, DataType.INT64)]
    assert spans(plan_reads(points, 8)) == [("holding", 0, 11), ("holding", 20, 1), ("holding", 30, 4)]
    assert spans(plan_reads(points, 9)) == [("holding", 0, 34)]
    assert len(plan_reads(points, 0)) == 4


def test_plan__tables_apart_and_bits_of_one_register_together():
    points = [
        reg("x", 5, table=Table.INPUT),
        reg("b0", 7, DataType.BIT, bit=0),
        reg("b1", 7, DataType.BIT, bit=1),
        reg("c", 3, DataType.BOOL, table=Table.COIL),
        reg("d", 9, DataType.BOOL, table=Table.DISCRETE),
    ]
    requests = plan_reads(points, 0)
    assert spans(requests) == [("holding", 7, 1), ("input", 5, 1), ("coil", 3, 1), ("discrete", 9, 1)]
    assert [p.name for p in requests[0].points] == ["b0", "b1"]


def test_plan__never_over_125_registers_or_2000_bits():
    registers = [reg(f"r{i}", i * 2, DataType.FLOAT32) for i in range(250)]  # 500 registers, no gaps
    assert spans(plan_reads(registers, 8)) == [
        ("holding", 0, 124),
        ("holding", 124, 124),
        ("holding", 248, 124),
        ("holding", 372, 124),
        ("holding", 496, 4),
    ]
    coils = [reg(f"c{i}", i, DataType.BOOL, table=Table.COIL) for i in range(4500)]
    assert spans(plan_reads(coils, 0)) == [("coil", 0, 2000), ("coil", 2000, 2000), ("coil", 4000, 500)]


def test_plan__each_point_finds_its_slice():
    points = [reg("a", 100, DataType.FLOAT32), reg("s", 104, DataType.STRING, length=3)]
    [request] = plan_reads(points, 8)
    assert [request.slice_of(p) for p in request.points] == [slice(0, 2), slice(4, 7)]


def test_plan_alone__one_request_per_location_bits_of_a_register_together():
    points = [
        reg("b0", 7, DataType.BIT, bit=0),
        reg("f", 8, DataType.FLOAT32),
        reg("b5", 7, DataType.BIT, bit=5),
    ]
    requests = plan_alone(points)
    assert spans(requests) == [("holding", 7, 1), ("holding", 8, 2)]
    assert [p.name for p in requests[0].points] == ["b0", "b5"]
