"""Scenario times and delays, written as `90`, `45s`, `10m`, `1h30m` or `1.5h`, and back to text."""

import math
import re

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")
EXPECTED = "expected a time such as 90, 45s, 10m or 1h30m"


def parse_duration(value: object) -> float:
    """Seconds in `value` (a number of seconds or text like '1h30m'); ValueError says what was expected."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value) or value < 0:
            raise ValueError(EXPECTED)
        return float(value)
    text = value.replace(" ", "") if isinstance(value, str) else ""
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(EXPECTED)
    hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def format_duration(seconds: float) -> str:
    """Seconds as the shortest text parse_duration reads back, e.g. 5400 -> '1h30m'."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    secs += seconds - whole
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs:g}s" if secs else ""]
    return "".join(parts) or "0s"
