"""Flow files into FlowSpecs: plain flows, blueprints with typed inputs, and instances of blueprints.

A deployment is a set of files, `key -> YAML text`, the key being the file's path relative to the
config folder (`flows/vav_1.yaml`). A file with a `blueprint:` section is a blueprint (not run); one
with `use_blueprint:` is an instance, its `!input` references replaced by the instance's values; any
other file is a plain flow. Every problem becomes a FlowIssue with its file:line; loading never stops
at the first one.
"""

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import voluptuous as vol

from hub.flows.model import (
    BlueprintInput,
    BlueprintSpec,
    Edge,
    FlowIssue,
    FlowSpec,
    InputType,
    NodeSpec,
    Severity,
)
from hub.flows.node import duration
from hub.yaml_loader import InputRef, Mark, MarkedDict, MarkedList, iter_problems, load_yaml_text

Deployment = Mapping[str, str]  # file key -> YAML text
FLOW_SUFFIXES = (".yaml", ".yml")
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FLOW_KEYS = {"flow", "parameters", "nodes", "edges", "use_blueprint", "blueprint"}


@dataclass
class Loaded:
    """Everything a deployment holds: runnable flows, blueprints, and the problems found."""

    flows: dict[str, FlowSpec] = field(default_factory=dict)
    blueprints: dict[str, BlueprintSpec] = field(default_factory=dict)
    issues: list[FlowIssue] = field(default_factory=list)
    set_aside: dict[str, str] = field(default_factory=dict)  # flow id -> its file key (flows with errors)


def load_deployment(files: Deployment, base: Path) -> Loaded:
    """Parse every file, then instantiate the instances against the blueprints found."""
    loaded = Loaded()
    parsed: dict[str, Any] = {}
    for key in sorted(files):
        path = base / key
        raw = load_yaml_text(files[key], path)
        problems = [
            FlowIssue(Severity.ERROR, p.mark, _stem(key), None, p.message) for _, p in iter_problems(raw)
        ]
        if problems or not isinstance(raw, MarkedDict):
            loaded.issues.extend(problems or [_issue(Mark(path, 1), _stem(key), None, "expected a mapping")])
            loaded.set_aside[_stem(key)] = key
            continue
        parsed[key] = raw
        if "blueprint" in raw:
            _read_blueprint(key, path, raw, loaded)
    for key, raw in parsed.items():
        if "blueprint" not in raw:
            _read_flow(key, base / key, raw, loaded)
    return loaded


def _read_blueprint(key: str, path: Path, raw: MarkedDict, loaded: Loaded) -> None:
    issues = IssueList(_stem(key), loaded.issues)
    header = raw["blueprint"]
    if not isinstance(header, MarkedDict):
        issues.add(_value_mark(raw, "blueprint", path), "blueprint: expected a mapping with name and inputs")
        return
    inputs = []
    declared = header.get("inputs") or {}
    if not isinstance(declared, dict):
        issues.add(
            _value_mark(header, "inputs", path), "blueprint.inputs: expected a mapping of name -> input"
        )
        declared = {}
    for name, spec in declared.items():
        mark = _value_mark(declared, name, path)
        if not isinstance(spec, dict) or spec.get("type") not in set(InputType):
            issues.add(mark, f"input {name}: expected a mapping with type one of {', '.join(InputType)}")
            continue
        unknown = set(spec) - {"type", "description", "default"}
        if unknown:
            issues.add(
                mark, f"input {name}: unknown key {sorted(unknown)[0]} (expected type, description, default)"
            )
        inputs.append(
            BlueprintInput(
                str(name), InputType(spec["type"]), str(spec.get("description", "")), spec.get("default"),
                "default" not in spec,
            )
        )  # fmt: skip
    name, description = str(header.get("name", _stem(key))), str(header.get("description", ""))
    loaded.blueprints[key] = BlueprintSpec(key, path, name, description, tuple(inputs), raw, raw.mark)


def _read_flow(key: str, path: Path, raw: MarkedDict, loaded: Loaded) -> None:
    header = raw.get("flow") or {}
    flow_id = header.get("id", _stem(key)) if isinstance(header, dict) else _stem(key)
    issues = IssueList(str(flow_id), loaded.issues)
    if not isinstance(header, dict):
        issues.add(_value_mark(raw, "flow", path), "flow: expected a mapping with id, name, description")
        header = {}
    if not isinstance(flow_id, str) or not _ID.fullmatch(flow_id):
        issues.add(_value_mark(header, "id", path), "flow.id: expected 1 to 64 letters, digits, '_' or '-'")
        flow_id = _stem(key)
        issues.flow_id = flow_id
    for unknown in sorted(set(raw) - _FLOW_KEYS, key=str):
        expected = "flow, use_blueprint, parameters, nodes, edges"
        issues.add(raw.key_marks.get(unknown), f"unknown key {unknown} (expected {expected})")
    if "use_blueprint" in raw and ("nodes" in raw or "edges" in raw):
        where = raw.key_marks.get("nodes", raw.key_marks.get("edges"))
        issues.add(where, "an instance takes its nodes and edges from its blueprint: remove them here")
    if flow_id in loaded.flows or flow_id in loaded.set_aside:
        other = loaded.flows[flow_id].key if flow_id in loaded.flows else loaded.set_aside[flow_id]
        issues.add(raw.mark, f"duplicate flow id {flow_id} (also in {other})")
        return
    body, blueprint, inputs = raw, None, {}
    if "use_blueprint" in raw:
        substituted = _instantiate(key, path, raw, loaded, issues)
        if substituted is None:
            loaded.set_aside[flow_id] = key
            return
        body, blueprint, inputs = substituted
    parameters = {
        **_mapping(body, "parameters", path, issues),
        **(_mapping(raw, "parameters", path, issues) if body is not raw else {}),
    }
    nodes = read_nodes(body, path, issues)
    edges = read_edges(body, path, issues)
    if issues.count:
        loaded.set_aside[flow_id] = key
        return
    loaded.flows[flow_id] = FlowSpec(
        flow_id, str(header.get("name", flow_id)), path, key, nodes, edges, parameters,
        str(header.get("description", "")), blueprint, inputs, raw.mark,
    )  # fmt: skip


def _instantiate(
    key: str, path: Path, raw: MarkedDict, loaded: Loaded, issues: "IssueList"
) -> tuple[Any, str, dict[str, Any]] | None:
    """The blueprint's body with this instance's inputs in place of `!input`, its key and the inputs."""
    use = raw["use_blueprint"]
    use_mark = _value_mark(raw, "use_blueprint", path)
    before = issues.count  # problems found here, not earlier in the file, stop the substitution
    if not isinstance(use, MarkedDict) or not isinstance(use.get("path"), str):
        issues.add(use_mark, "use_blueprint: expected a mapping with path and inputs")
        return None
    blueprint = _find_blueprint(key, use["path"], loaded.blueprints)
    if blueprint is None:
        issues.add(_value_mark(use, "path", path), f"use_blueprint.path: no blueprint {use['path']}")
        return None
    given = use.get("inputs") or {}
    if not isinstance(given, dict):
        issues.add(
            _value_mark(use, "inputs", path), "use_blueprint.inputs: expected a mapping of name -> value"
        )
        return None
    declared = {item.name: item for item in blueprint.inputs}
    values: dict[str, Any] = {}
    for name in given:
        if name not in declared:
            issues.add(
                _key_mark(given, name, path),
                f"unknown blueprint input {name} (expected one of: {', '.join(declared)})",
            )
    for name, item in declared.items():
        if name in given:
            try:
                values[name] = _check_input(item.type, given[name])
            except vol.Invalid as err:
                issues.add(_value_mark(given, name, path), f"input {name}: {err.msg}")
        elif item.required:
            issues.add(
                use_mark,
                f"missing blueprint input {name} ({item.type}: {item.description or 'no description'})",
            )
        else:
            values[name] = item.default
    if issues.count > before:
        return None
    body = substitute(blueprint.raw, lambda ref: values.get(ref.name, ref), issues)
    return None if issues.count > before else (body, blueprint.key, values)


def substitute(value: Any, resolve: Callable[[InputRef], Any], issues: "IssueList") -> Any:
    """A copy of `value` with each `!input` resolved (marked containers keep their marks)."""
    if isinstance(value, InputRef):
        found = resolve(value)
        if isinstance(found, InputRef):
            issues.add(value.mark, f"!input {value.name}: the blueprint declares no such input")
        return found
    if isinstance(value, MarkedDict):
        copy = MarkedDict({k: substitute(v, resolve, issues) for k, v in value.items()})
        copy.mark, copy.key_marks, copy.value_marks = value.mark, value.key_marks, value.value_marks
        return copy
    if isinstance(value, MarkedList):
        items = MarkedList([substitute(v, resolve, issues) for v in value])
        items.mark, items.item_marks = value.mark, value.item_marks
        return items
    return value


def _check_input(kind: InputType, value: Any) -> Any:
    """The value if it suits an input of `kind` (durations stay as written: nodes parse them)."""
    if kind == InputType.POINT and not (isinstance(value, str) and value.strip()):
        raise vol.Invalid("expected a point id")
    if kind == InputType.NUMBER and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise vol.Invalid("expected a number")
    if kind == InputType.DURATION:
        duration(value)
    if kind == InputType.BOOLEAN and not isinstance(value, bool):
        raise vol.Invalid("expected true or false")
    if kind == InputType.SCHEDULE and not isinstance(value, dict | list):
        raise vol.Invalid("expected a schedule (a mapping or a list)")
    return value


def _find_blueprint(key: str, wanted: str, blueprints: Mapping[str, BlueprintSpec]) -> BlueprintSpec | None:
    """Next to the instance first, then as a key (`blueprints/x.yaml`), then by file name anywhere."""
    for candidate in (
        posixpath.normpath(posixpath.join(posixpath.dirname(key), wanted)),
        posixpath.normpath(wanted),
    ):
        if candidate in blueprints:
            return blueprints[candidate]
    matches = [bp for bp_key, bp in blueprints.items() if bp_key.endswith("/" + wanted.lstrip("./"))]
    return matches[0] if len(matches) == 1 else None


def read_nodes(body: Any, path: Path, issues: "IssueList") -> tuple[NodeSpec, ...]:
    items = body.get("nodes")
    if not isinstance(items, MarkedList) or not items:
        issues.add(_value_mark(body, "nodes", path), "nodes: expected a list of nodes, each with id and type")
        return ()
    nodes: dict[str, NodeSpec] = {}
    for index, item in enumerate(items):
        mark = items.item_marks[index]
        if not isinstance(item, MarkedDict) or not isinstance(item.get("type"), str):
            issues.add(mark, f"nodes[{index}]: expected a mapping with id and type")
            continue
        node_id = item.get("id")
        if not isinstance(node_id, str) or not _ID.fullmatch(node_id):
            issues.add(mark, f"nodes[{index}].id: expected 1 to 64 letters, digits, '_' or '-'")
            continue
        if node_id in nodes:
            issues.add(mark, "duplicate node id", node_id)
            continue
        ui = item.get("ui", {})
        if not _is_position(ui):
            issues.add(
                _value_mark(item, "ui", path), "ui: expected {x: number, y: number} (the designer's layout)"
            )
            continue
        params = {k: v for k, v in item.items() if k not in ("id", "type", "ui")}
        marks = {k: item.value_marks[k] for k in params}
        nodes[node_id] = NodeSpec(node_id, item["type"], params, mark, marks, dict(ui))
    return tuple(nodes.values())


def _is_position(ui: Any) -> bool:
    """A node's optional designer position: x and y numbers, nothing else (it never changes what runs)."""
    if not isinstance(ui, dict) or set(ui) - {"x", "y"}:
        return False
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in ui.values())


def read_edges(body: Any, path: Path, issues: "IssueList") -> tuple[Edge, ...]:
    items = body.get("edges") or MarkedList()
    if not isinstance(items, MarkedList):
        issues.add(
            _value_mark(body, "edges", path), "edges: expected a list of {from: node.port, to: node.port}"
        )
        return ()
    edges = []
    for index, item in enumerate(items):
        mark = items.item_marks[index]
        ends = [item.get(end) if isinstance(item, dict) else None for end in ("from", "to")]
        if not all(isinstance(end, str) and end.count(".") == 1 for end in ends) or len(item) != 2:
            issues.add(mark, f"edges[{index}]: expected {{from: node.port, to: node.port}}")
            continue
        (source, source_port), (target, target_port) = (end.split(".") for end in ends)
        edges.append(Edge(source, source_port, target, target_port, mark))
    return tuple(edges)


def _mapping(body: Any, name: str, path: Path, issues: "IssueList") -> dict[str, Any]:
    value = body.get(name) or {}
    if not isinstance(value, dict):
        issues.add(_value_mark(body, name, path), f"{name}: expected a mapping of name -> value")
        return {}
    return dict(value)


class IssueList:
    """Collects one flow's errors."""

    def __init__(self, flow_id: str, into: list[FlowIssue]) -> None:
        self.flow_id = flow_id
        self._into = into
        self.count = 0

    def add(self, mark: Mark | None, message: str, node_id: str | None = None) -> None:
        self._into.append(_issue(mark, self.flow_id, node_id, message))
        self.count += 1


def _issue(mark: Mark | None, flow_id: str, node_id: str | None, message: str) -> FlowIssue:
    return FlowIssue(Severity.ERROR, mark, flow_id, node_id, message)


def _value_mark(data: Any, key: str, path: Path) -> Mark:
    if isinstance(data, MarkedDict):
        return data.value_marks.get(key) or data.mark or Mark(path, 1)
    return Mark(path, 1)


def _key_mark(data: Any, key: str, path: Path) -> Mark:
    if isinstance(data, MarkedDict):
        return data.key_marks.get(key) or data.mark or Mark(path, 1)
    return Mark(path, 1)


def _stem(key: str) -> str:
    return posixpath.splitext(posixpath.basename(key))[0]
