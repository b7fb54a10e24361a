"""The cron parser: fields, names, steps, day-of-month/day-of-week rules."""

from datetime import UTC, datetime

import pytest

from hub.flows.nodes.cron import CronError, parse_cron


def _next(expression: str, after: datetime) -> datetime:
    return datetime.fromtimestamp(parse_cron(expression).next_after(after.timestamp(), UTC), UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("* * * * *", datetime(2027, 1, 1, 10, 0, 30, tzinfo=UTC), datetime(2027, 1, 1, 10, 1, tzinfo=UTC)),
        ("*/15 * * * *", datetime(2027, 1, 1, 10, 16, tzinfo=UTC), datetime(2027, 1, 1, 10, 30, tzinfo=UTC)),
        ("0 8-18/5 * * *", datetime(2027, 1, 1, 13, 1, tzinfo=UTC), datetime(2027, 1, 1, 18, 0, tzinfo=UTC)),
        ("0 0 1 jan,jul *", datetime(2027, 1, 1, 0, 0, tzinfo=UTC), datetime(2027, 7, 1, tzinfo=UTC)),
        ("0 12 * * 7", datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 1, 3, 12, tzinfo=UTC)),  # 7 = Sunday
        ("0 12 * * sun", datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 1, 3, 12, tzinfo=UTC)),
        # Both day fields restricted: either one matches (the 13th or a Friday).
        ("0 0 13 * fri", datetime(2027, 1, 2, tzinfo=UTC), datetime(2027, 1, 8, tzinfo=UTC)),
        ("0 0 29 2 *", datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC)),
        ("@weekly", datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 1, 3, tzinfo=UTC)),
        ("@yearly", datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)),
    ],
)
def test_next_after(expression, after, expected):
    assert _next(expression, after) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "expected 5 fields"),
        ("* * * * * *", "expected 5 fields"),
        ("0 24 * * *", "hour field: 24 is out of range 0-23"),
        ("0 0 0 * *", "day of month field: 0 is out of range 1-31"),
        ("0 0 * 13 *", "month field: 13 is out of range 1-12"),
        ("0 0 * foo *", "month field: 'foo' is not a number"),
        ("5-1 * * * *", "runs backwards"),
        ("*/x * * * *", "step 'x'"),
        ("0 0 30 feb *", "never meet"),
    ],
)
def test_parse_cron__invalid(expression, message):
    with pytest.raises(CronError, match=message):
        parse_cron(expression)
