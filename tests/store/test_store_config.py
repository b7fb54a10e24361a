"""The `store:` config section: values reach StoreConfig; mistakes are `file:line: key: expected ...`."""

import textwrap
from pathlib import Path

import pytest

from hub.config import ConfigError, StoreConfig, load_config


def load(tmp_path: Path, text: str):
    path = tmp_path / "hub.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return load_config(path)


def test_store_section__valid(tmp_path):
    config = load(
        tmp_path,
        """
        store:
          commit_interval: 2.5
          batch_size: 5000
          queue_limit: 50000
          raw_retention_hours: 48
          raw_retention_overrides:
            12345.analogInput.1: 168
          rollup_retention_days: 90
          event_retention_days: 365
        """,
    )
    assert config.store == StoreConfig(2.5, 5000, 50000, 48.0, {"12345.analogInput.1": 168.0}, 90.0, 365.0)


def test_store_section__defaults(tmp_path):
    assert load(tmp_path, "log_level: info\n").store == StoreConfig()


def test_store_section__every_mistake_with_its_line(tmp_path):
    with pytest.raises(ConfigError) as info:
        load(
            tmp_path,
            """
            store:
              commit_interval: 0
              queue_limit: 10
              raw_retention_overrides:
                ahu-1.sat: forever
                ahu-1.rat: 0
              rollup_retention_day: 30
              event_retention_days: 0.5
            """,
        )
    issues = [str(issue) for issue in info.value.issues]
    path = tmp_path / "hub.yaml"
    hours = "expected a number of hours between 0.01 and 87600"
    assert issues == [
        f"{path}:2: store.commit_interval: expected a number of seconds between 0.05 and 3600, got 0",
        f"{path}:3: store.queue_limit: expected int >= 1000, got 10",
        f"{path}:5: store.raw_retention_overrides.ahu-1.sat: {hours}, got 'forever'",
        f"{path}:6: store.raw_retention_overrides.ahu-1.rat: {hours}, got 0",
        f"{path}:7: store.rollup_retention_day: unknown key (did you mean 'rollup_retention_days'?)",
        f"{path}:8: store.event_retention_days: expected a number of days between 1 and 3650, got 0.5",
    ]
