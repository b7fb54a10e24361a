"""JSON shapes shared by the REST API and the discovery file."""

import math

import pytest

from hub.codec import iso, json_value, parse_iso, sample_json
from hub.points import Quality, Sample


def test_iso__utc_with_milliseconds_and_z():
    assert iso(1_700_000_000.5) == "2023-11-14T22:13:20.500Z"
    assert iso(None) is None


@pytest.mark.parametrize(
    ("text", "timestamp"),
    [
        ("2023-11-14T22:13:20.500Z", 1_700_000_000.5),
        ("2023-11-14T23:13:20.500+01:00", 1_700_000_000.5),
        ("2023-11-14T22:13:20.500", 1_700_000_000.5),  # naive counts as UTC
    ],
)
def test_parse_iso__valid(text, timestamp):
    assert parse_iso(text) == timestamp


def test_json_value__non_finite_numbers_become_null():
    assert [json_value(v) for v in (math.nan, math.inf, 1.5, True, "on", None)] == [
        None,
        None,
        1.5,
        True,
        "on",
        None,
    ]


def test_sample_json():
    assert sample_json(Sample(math.nan, 1_700_000_000.0, Quality.BAD, "sensor open")) == {
        "value": None,
        "quality": "bad",
        "timestamp": "2023-11-14T22:13:20.000Z",
        "reason": "sensor open",
    }
    assert sample_json(None) == {"value": None, "quality": None, "timestamp": None, "reason": None}
