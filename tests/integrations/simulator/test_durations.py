"""Scenario times: the forms a user writes, and the text the simulator writes back."""

import pytest

from integrations.simulator.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90.0), (1.5, 1.5), ("45s", 45.0), ("10m", 600.0), ("1h30m", 5400.0), ("1.5h", 5400.0),
     ("2h 5m 3s", 7503.0), ("0s", 0.0)],
)  # fmt: skip
def test_parse_duration__valid(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten", "10 minutes", "5m10h", "-5", -1, True, None, float("inf"), "1d"])
def test_parse_duration__invalid(text):
    with pytest.raises(ValueError, match="expected a time such as 90, 45s, 10m or 1h30m"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (45, "45s"), (600, "10m"), (5400, "1h30m"), (3725, "1h2m5s"), (2.5, "2.5s")],
)
def test_format_duration__reads_back(seconds, text):
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds
