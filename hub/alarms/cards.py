"""Status cards: config-defined site cards that show points as operational states with their freshness.

A point that never reported says so ("never reported") instead of showing a default value.
"""

from dataclasses import dataclass
from enum import StrEnum

from hub.alarms.settings import CardFormat, CardPoint, StatusCard
from hub.points import PointRegistry, Value

NEVER_REPORTED = "never reported"


class Freshness(StrEnum):
    FRESH = "fresh"
    STALE = "stale"
    NEVER_REPORTED = "never_reported"
    UNKNOWN_POINT = "unknown_point"  # not registered (its integration is not loaded)


@dataclass(frozen=True)
class CardLine:
    """One point of a card as an operator reads it."""

    point: str
    label: str
    text: str  # e.g. "ON", "Auto", "21.5 °C", "never reported"
    value: Value
    updated_at: float | None
    age_s: float | None
    freshness: Freshness


def display(line: CardPoint, value: Value, units: str) -> str:
    """The operator's word for a value: ON/OFF, a state label, a number with units, or the value."""
    match line.format:
        case CardFormat.BOOLEAN if isinstance(value, bool | int | float):
            return line.on if value else line.off
        case CardFormat.MULTISTATE if isinstance(value, int | float) and not isinstance(value, bool):
            return line.states.get(int(value), f"state {value}")
        case CardFormat.NUMERIC if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{value:.{line.decimals}f}" + (f" {units}" if units else "")
    return "" if value is None else str(value)


def card_line(line: CardPoint, points: PointRegistry, now: float) -> CardLine:
    try:
        point = points.point(line.point)
    except KeyError:
        return CardLine(
            line.point, line.label or line.point, "unknown point", None, None, None, Freshness.UNKNOWN_POINT
        )
    label = line.label or point.name
    sample = points.latest(line.point)
    if sample is None:
        return CardLine(line.point, label, NEVER_REPORTED, None, None, None, Freshness.NEVER_REPORTED)
    fresh = Freshness.STALE if points.is_stale(line.point, now) else Freshness.FRESH
    units = point.units if line.units is None else line.units
    text = display(line, sample.value, units)
    return CardLine(
        line.point, label, text, sample.value, sample.timestamp, round(now - sample.timestamp, 3), fresh
    )


def card_json(card: StatusCard, points: PointRegistry, now: float) -> dict[str, object]:
    """A card with each line's state; the card is fresh only when every line is."""
    lines = [card_line(line, points, now) for line in card.points]
    return {
        "id": card.id,
        "title": card.title,
        "fresh": bool(lines) and all(line.freshness is Freshness.FRESH for line in lines),
        "points": [
            {
                "point": line.point,
                "label": line.label,
                "text": line.text,
                "value": line.value,
                "updated_at": line.updated_at,
                "age_s": line.age_s,
                "freshness": str(line.freshness),
            }
            for line in lines
        ],
    }
