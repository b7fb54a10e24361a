"""A hub simulating the demo floor with flows in tmp folders, and waiting for what it does."""

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from hub.bus import Bus
from hub.config import FlowsConfig
from tests.conftest import WAIT_S, RunningHub, StartHub, make_config

E = TypeVar("E")
SIMULATOR = {"simulator": {"scenario": "demo", "time_scale": 60}}


class Waiter:
    """Events of one type published on a bus from now on; `until` waits for one that matches."""

    def __init__(self, bus: Bus, event_type: type[E]) -> None:
        self.events: list[E] = []
        self._changed = asyncio.Event()
        bus.subscribe(event_type, self._add)

    def _add(self, event: object) -> None:
        self.events.append(event)  # type: ignore[arg-type]
        self._changed.set()

    async def until(self, check: Callable[[E], bool]) -> E:
        async with asyncio.timeout(WAIT_S):
            while True:
                found = next((event for event in self.events if check(event)), None)
                if found is not None:
                    return found
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
def flows_config(tmp_path: Path) -> Callable[..., object]:
    """The test config with the demo floor and flows in tmp_path/blueprints and tmp_path/flows."""

    def build(**flows: object) -> object:
        settings = {
            "directories": (tmp_path / "blueprints", tmp_path / "flows"),
            "hot_reload": False,
            **flows,
        }
        return dataclasses.replace(
            make_config(tmp_path),
            integrations=SIMULATOR,
            flows=FlowsConfig(**settings),  # type: ignore[arg-type]
        )

    return build


@pytest.fixture
async def sim_hub(start_hub: StartHub, flows_config: Callable[..., object]) -> RunningHub:
    """A running hub on the demo floor with no flows yet (hot reload off)."""
    return await start_hub(flows_config())
