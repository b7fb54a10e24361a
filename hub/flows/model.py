"""What a flow is once loaded: nodes, edges, parameters, and the blueprint it came from (frozen data)."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from hub.yaml_loader import Mark


class InputType(StrEnum):
    """What a blueprint input takes."""

    POINT = "point"
    NUMBER = "number"
    DURATION = "duration"
    BOOLEAN = "boolean"
    SCHEDULE = "schedule"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class FlowIssue:
    """One problem with a flow, pointing at the file line to fix and the node concerned."""

    severity: Severity
    mark: Mark | None
    flow_id: str
    node_id: str | None
    message: str

    def __str__(self) -> str:
        where = str(self.mark) if self.mark else self.flow_id
        node = f"node {self.node_id}: " if self.node_id else ""
        flag = "warning: " if self.severity == Severity.WARNING else ""
        return f"{where}: {flag}flow {self.flow_id}: {node}{self.message}"

    def json(self) -> dict[str, object]:
        return {
            "severity": str(self.severity),
            "file": str(self.mark.file) if self.mark else None,
            "line": self.mark.line if self.mark else None,
            "flow_id": self.flow_id,
            "node_id": self.node_id,
            "message": self.message,
        }


@dataclass(frozen=True)
class BlueprintInput:
    """A typed input of a blueprint; `required` when it has no default."""

    name: str
    type: InputType
    description: str = ""
    default: Any = None
    required: bool = True


@dataclass(frozen=True)
class NodeSpec:
    """One node as written: its id, type and raw parameters (inputs already substituted)."""

    id: str
    type: str
    params: Mapping[str, Any]
    mark: Mark | None = None
    param_marks: Mapping[str, Mark] = field(default_factory=dict)
    ui: Mapping[str, float] = field(default_factory=dict)  # the designer's x/y: not part of what runs


@dataclass(frozen=True)
class Edge:
    """A wire from one node's output port to another node's input port."""

    source: str
    source_port: str
    target: str
    target_port: str
    mark: Mark | None = None


@dataclass(frozen=True)
class FlowSpec:
    """A runnable flow: plain, or an instance of a blueprint with its input values."""

    id: str
    name: str
    file: Path
    key: str  # the file's key in a deployment, e.g. "flows/vav_1.yaml"
    nodes: tuple[NodeSpec, ...]
    edges: tuple[Edge, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    blueprint: str | None = None  # the blueprint's key when this is an instance
    inputs: Mapping[str, Any] = field(default_factory=dict)
    mark: Mark | None = None

    @property
    def fingerprint(self) -> str:
        """Changes exactly when what runs changes: a deploy restarts only flows whose fingerprint moved."""
        return hashlib.sha256(json.dumps(self.canonical(), sort_keys=True, default=str).encode()).hexdigest()

    def canonical(self) -> dict[str, Any]:
        """The flow as plain data, for fingerprints and `bms-hub flows diff`."""
        return {
            "nodes": {node.id: {"type": node.type, **_plain(node.params)} for node in self.nodes},
            "edges": sorted(f"{e.source}.{e.source_port} -> {e.target}.{e.target_port}" for e in self.edges),
            "parameters": _plain(self.parameters),
        }


@dataclass(frozen=True)
class BlueprintSpec:
    """A reusable flow with typed inputs; its nodes hold `!input` references until instantiated."""

    key: str
    file: Path
    name: str
    description: str
    inputs: tuple[BlueprintInput, ...]
    raw: Any  # the loaded YAML mapping (marked), substituted per instance
    mark: Mark | None = None


def _plain(value: Any) -> Any:
    """Marked containers and tuples as plain dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
