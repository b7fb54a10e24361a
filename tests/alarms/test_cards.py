"""How a card shows a value: the operator's words, not the raw value."""

import pytest

from hub.alarms.cards import display
from hub.alarms.settings import CardFormat, CardPoint
from hub.points import Value


@pytest.mark.parametrize(
    ("line", "value", "text"),
    [
        (CardPoint("p", format=CardFormat.BOOLEAN), True, "ON"),
        (CardPoint("p", format=CardFormat.BOOLEAN), 0, "OFF"),
        (CardPoint("p", format=CardFormat.BOOLEAN, on="Running", off="Stopped"), 1.0, "Running"),
        (CardPoint("p", format=CardFormat.BOOLEAN), "maybe", "maybe"),  # not a boolean: shown as it is
        (CardPoint("p", format=CardFormat.MULTISTATE, states={1: "Off", 2: "Auto"}), 2, "Auto"),
        (CardPoint("p", format=CardFormat.MULTISTATE, states={1: "Off"}), 7, "state 7"),
        (CardPoint("p", format=CardFormat.NUMERIC, decimals=0), 41.6, "42 kW"),
        (CardPoint("p", format=CardFormat.NUMERIC, units=""), 41.56, "41.6"),
        (CardPoint("p"), "auto", "auto"),
        (CardPoint("p"), None, ""),
    ],
)
def test_display(line: CardPoint, value: Value, text: str) -> None:
    assert display(line, value, "" if line.units == "" else "kW") == text
