"""The reading contract: what is accepted, and the reason given for what is not."""

import json
from pathlib import Path

import pytest

from hub.bms.model import Reading
from hub.bms.payload import MAX_BATCH, PayloadError, parse

SCHEMA = Path(__file__).parents[2] / "docs" / "bms" / "reading.schema.json"


def test_parse__single_reading():
    message = b'{"point_id": "AHU1/SAT", "value": 12.5, "unit": "degC", "timestamp": "2026-03-01T12:00:00Z"}'
    assert parse(message) == (Reading("AHU1/SAT", 12.5, "degC", 1_772_366_400.0),)


def test_parse__batch_with_offsets_epochs_and_test_flag():
    message = {
        "readings": [
            {"point_id": "a", "value": True, "timestamp": "2026-03-01T13:00:00+01:00"},
            {"point_id": "b", "value": "on", "timestamp": 1_772_366_400},
            {"point_id": "c", "value": None, "timestamp": 1_772_366_400_000, "test": True},
        ]
    }
    assert parse(json.dumps(message).encode()) == (
        Reading("a", True, "", 1_772_366_400.0),
        Reading("b", "on", "", 1_772_366_400.0),
        Reading("c", None, "", 1_772_366_400.0, test=True),
    )


def test_the_documented_schema_examples__parse():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    for example in schema["examples"]:
        assert parse(json.dumps(example).encode())
    assert schema["$defs"]["reading"]["required"] == ["point_id", "value", "timestamp"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (b"\xff\xfe", "invalid JSON"),
        (b"{", "invalid JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"point_id": "a", "value": 1}', "timestamp: required"),
        (b'{"point_id": "", "value": 1, "timestamp": 1}', "point_id: expected 1 to 200 characters"),
        (b'{"point_id": "a", "value": [1], "timestamp": 1}', "value: expected a number"),
        (b'{"point_id": "a", "value": NaN, "timestamp": 1}', "NaN is not a JSON number"),
        (b'{"point_id": "a", "value": 1, "timestamp": "2026-03-01T12:00:00"}', "has no UTC offset"),
        (b'{"point_id": "a", "value": 1, "timestamp": "noon"}', "timestamp: expected an ISO 8601 time"),
        (b'{"point_id": "a", "value": 1, "timestamp": -5}', "non-negative"),
        (b'{"point_id": "a", "value": 1, "timestamp": 1, "extra": 2}', "extra: unknown field"),
        (b'{"readings": []}', "readings: expected 1 to 1000 readings"),
        (b'{"readings": [{"point_id": "a", "value": 1, "timestamp": true}]}', "readings[0].timestamp"),
    ],
)
def test_parse__invalid(message: bytes, reason: str):
    with pytest.raises(PayloadError) as caught:
        parse(message)
    assert reason in str(caught.value)


def test_parse__batch_too_big():
    readings = [{"point_id": "a", "value": 1, "timestamp": 1}] * (MAX_BATCH + 1)
    with pytest.raises(PayloadError, match="expected 1 to 1000 readings"):
        parse(json.dumps({"readings": readings}).encode())
