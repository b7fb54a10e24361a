"""The `alarms:` config section: valid files build the dataclasses, bad ones say file:line: key: what."""

import textwrap
from pathlib import Path

import pytest

from hub.alarms.model import Severity
from hub.alarms.settings import CardFormat, LimitRule
from hub.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def issues_of(tmp_path: Path, text: str) -> list[str]:
    """`line: key: message` of every problem."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(issue).removeprefix(f"{path}:") for issue in info.value.issues]


def test_valid(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
        alarms:
          limits:
            - {point: vav-1.temp, high: 26, deadband: 0.5, delay: 30, severity: CRITICAL}
          notifications:
            webhook: {url: "http://127.0.0.1:9/hook", severities: info}
          status_cards:
            - id: plant
              title: Plant
              points:
                - {point: vav-1.mode, format: multistate, states: {0: "Off", 1: Auto}}
        """,
        )
    )
    alarms = config.alarms
    assert alarms.limits == (
        LimitRule("vav-1.temp", high=26.0, deadband=0.5, delay=30.0, severity=Severity.CRITICAL),
    )
    assert alarms.notifications.webhook.severities == (Severity.INFO,)
    assert alarms.status_cards[0].points[0].format is CardFormat.MULTISTATE
    assert alarms.status_cards[0].points[0].states == {0: "Off", 1: "Auto"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "alarms:\n  limits:\n    - {point: p}",
            ["3: alarms.limits[0].point: a limit rule needs `high`, `low` or both"],
        ),
        (
            "alarms:\n  limits:\n    - {point: p, high: 1, low: 2}",
            ["3: alarms.limits[0].low: expected `low` below `high`"],
        ),
        (
            "alarms:\n  stale: {severity: huge}",
            ["2: alarms.stale.severity: expected one of critical, major, minor"],
        ),
        (
            "alarms:\n  notifications:\n    webhook: {url: ftp://x}",
            ["3: alarms.notifications.webhook.url: expected an http"],
        ),
        (
            "alarms:\n  status_cards:\n    - {id: a, title: A, points: [{point: p, states: {x: 1}}]}",
            ["3: alarms.status_cards[0].points[0].states.x: expected an integer state with a text label"],
        ),
        (
            "alarms:\n  status_cards:\n    - {id: a, title: A}\n    - {id: a, title: B}",
            ["4: alarms.status_cards[1].id: duplicate card id 'a'"],
        ),
        (
            "alarms:\n  tick_intervall: 1",
            ["2: alarms.tick_intervall: unknown key (did you mean 'tick_interval'?)"],
        ),
    ],
)
def test_invalid(tmp_path: Path, text: str, expected: list[str]) -> None:
    issues = issues_of(tmp_path, text)
    assert [issue[: len(prefix)] for issue, prefix in zip(issues, expected, strict=True)] == expected, issues
