"""Every file in blueprints/ validates, and the demo instances run on the simulated demo floor."""

import dataclasses
from pathlib import Path

from hub.config import FlowsConfig
from hub.flows.deployment import FlowFiles, check
from hub.flows.nodes import builtin_registry
from hub.flows.runner import FlowState
from tests.conftest import StartHub, make_config
from tests.flows.conftest import SIMULATOR

REPO = Path(__file__).resolve().parents[2]


def test_every_blueprint_file_validates():
    files = FlowFiles(REPO, [Path("blueprints")])
    read = files.read()
    checked = check(read, REPO, builtin_registry(), None)

    assert [str(issue) for issue in checked.issues] == []
    assert len(read) == len(checked.runnable) + len(checked.loaded.blueprints) > 0


async def test_the_demo_instances_run_against_the_simulator(start_hub: StartHub, tmp_path: Path):
    flows = FlowsConfig(directories=(REPO / "blueprints",), hot_reload=False)
    running = await start_hub(dataclasses.replace(make_config(tmp_path), integrations=SIMULATOR, flows=flows))

    service = running.hub.flows
    assert [str(issue) for issue in service.checked.issues] == []  # the points exist and are writable
    states = {runner.spec.id: runner.state for runner in service.engine}
    assert states == dict.fromkeys(service.checked.runnable, FlowState.RUNNING)
    assert len(states) >= 5
