"""Traces of flow runs: for each run, every node's input, outputs and duration; the last N runs per flow."""

from collections import deque
from dataclasses import dataclass
from typing import Any, NamedTuple


class NodeStep(NamedTuple):
    """One node handling one value during a run (a NamedTuple: one is made per node per traced run)."""

    node_id: str
    port: str  # the input port, or "start"/"timer"/"point" for a trigger
    value: Any
    outputs: tuple[tuple[str, Any], ...]
    duration: float  # seconds of CPU in the node

    def json(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "input": {"port": self.port, "value": _jsonable(self.value)},
            "outputs": [{"port": port, "value": _jsonable(value)} for port, value in self.outputs],
            "duration_us": round(self.duration * 1e6, 1),
        }


@dataclass(frozen=True)
class RunTrace:
    """One run: what started it, when (the flow's clock), each step in order, and the error if it failed."""

    run: int
    started_at: float
    trigger: str
    steps: tuple[NodeStep, ...]
    duration: float
    error: str | None = None

    def json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "started_at": self.started_at,
            "trigger": self.trigger,
            "duration_us": round(self.duration * 1e6, 1),
            "error": self.error,
            "steps": [step.json() for step in self.steps],
        }


class TraceBuffer:
    """The newest `depth` runs of one flow (none kept when depth is 0)."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self._runs: deque[RunTrace] = deque(maxlen=max(depth, 1))

    def add(self, trace: RunTrace) -> None:
        if self.depth:
            self._runs.append(trace)

    def runs(self) -> list[RunTrace]:
        """Oldest first."""
        return list(self._runs)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return repr(value)
