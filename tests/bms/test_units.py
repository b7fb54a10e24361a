"""Unit conversion of mapped readings."""

import pytest

from hub.bms.units import conversion_problem, convert, same_unit


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (68.0, "degF", "degC", 20.0),
        (20.0, "°C", "degF", 68.0),
        (293.15, "K", "degC", 20.0),
        (1.0, "kWh", "Wh", 1000.0),
        (3600.0, "m3/h", "L/s", 1000.0),
        (1.0, "bar", "kPa", 100.0),
        (50.0, "%", "fraction", 0.5),
        (7.0, "ppm", "ppm", 7.0),
        (7.0, "", "degC", 7.0),  # no unit given: taken as it is
    ],
)
def test_convert(value, source, target, expected):
    assert convert(value, source, target) == pytest.approx(expected)


def test_same_unit__aliases_and_case():
    assert same_unit("°C", "degc")
    assert same_unit("KW", "kW")
    assert not same_unit("kW", "W")


@pytest.mark.parametrize(
    ("source", "target", "problem"),
    [
        ("degC", "kW", "cannot convert degC (temperature) to kW (power)"),
        ("furlong", "degC", "unknown unit 'furlong': cannot convert furlong to degC"),
    ],
)
def test_conversion_problem(source, target, problem):
    assert conversion_problem(source, target) == problem
    with pytest.raises(ValueError, match="cannot convert"):
        convert(1.0, source, target)
