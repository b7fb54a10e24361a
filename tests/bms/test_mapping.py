"""Mapping readings to hub points: unit conversion of values and the bounded unmapped list."""

import pytest

from hub.bms import mapping as mapping_module
from hub.bms.mapping import MappingTable, Seen, converted, name_problem, point_name
from hub.bms.model import Mapping, Reading
from hub.points import PointKind


def _mapping(source_unit: str = "", units: str = "degC") -> Mapping:
    return Mapping(1, "a", "x", "bms-a.x", source_unit, True, "x", units, PointKind.ANALOG)


@pytest.mark.parametrize(
    ("reading_unit", "source_unit", "value", "expected"),
    [
        ("degF", "", 212, 100.0),  # the reading's unit first
        ("", "degF", 32.0, 0.0),  # else the mapping's source unit
        ("", "", 21.5, 21.5),  # no unit anywhere: as sent
        ("°C", "", True, True),  # same unit: nothing to convert, any value
    ],
)
def test_converted(reading_unit, source_unit, value, expected):
    reading = Reading("x", value, reading_unit, 0.0)
    assert converted(_mapping(source_unit), reading) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("reading", "problem"),
    [
        (Reading("x", 1.0, "kW", 0.0), "cannot convert kW (power) to degC (temperature)"),
        (Reading("x", "hot", "degF", 0.0), "cannot convert 'hot' from degF to degC: not a number"),
    ],
)
def test_converted__refused(reading, problem):
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        converted(_mapping(), reading)


def test_point_names():
    assert point_name("AHU1/Supply Temp (°C)") == "AHU1_Supply_Temp_C"
    assert name_problem("AHU1_SAT") is None
    assert name_problem("a.b") == "expected 1 to 100 letters, digits, _ or -"


def test_unmapped__counted_and_bounded(monkeypatch):
    monkeypatch.setattr(mapping_module, "MAX_UNMAPPED", 2)
    table = MappingTable()
    assert table.seen("a", Reading("p1", 1, "kW", 0.0), now=10.0) is Seen.NEW
    assert table.seen("a", Reading("p1", 2, "kW", 0.0), now=20.0) is Seen.KNOWN
    assert table.seen("a", Reading("p2", 3, "", 0.0), now=30.0) is Seen.NEW
    assert table.seen("a", Reading("p3", 4, "", 0.0), now=40.0) is Seen.FULL
    first = table.unmapped("a")[0]
    assert (first.external_id, first.first_seen, first.last_seen, first.count, first.last_value) == (
        "p1",
        10.0,
        20.0,
        2,
        2,
    )
    assert sorted(entry.external_id for _, entry in table.take_dirty()) == ["p1", "p2"]
    assert table.take_dirty() == []
    table.put(Mapping(2, "a", "p1", "bms-a.p1", "kW", True, "p1", "kW", PointKind.ANALOG))
    assert [u.external_id for u in table.unmapped("a")] == ["p2"]
