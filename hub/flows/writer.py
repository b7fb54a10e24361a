"""The designer's flow model to and from YAML text: one line per node and per edge, so diffs stay small.

The model is plain JSON: `flow` (id, name, description), `parameters`, and either `nodes` (id, type,
parameters, ui) with `edges` (from/to as `node.port`) or `use_blueprint` (path, inputs). Node keys
are written id, type, the parameters in the node type's schema order (unknown ones after, as given),
then `ui`; edges are sorted. Moving one node therefore changes exactly one line.
"""

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from hub.flows.node import NodeRegistry
from hub.flows.palette import node_type_json
from hub.yaml_loader import load_yaml_text

_WIDTH = 1 << 30  # never wrap: a node is one line


def to_yaml(model: Mapping[str, Any], registry: NodeRegistry) -> str:
    """The flow file for `model` (already checked by the caller's schema)."""
    flow = {k: v for k, v in model["flow"].items() if v not in ("", None)}
    lines = ["flow:", *_block(flow)]
    if "use_blueprint" in model:
        use = model["use_blueprint"]
        lines += [
            "use_blueprint:",
            f"  path: {_flow(use['path'])}",
            "  inputs:" + ("" if use["inputs"] else " {}"),
        ]
        lines += [f"    {_flow(name)}: {_flow(value)}" for name, value in use["inputs"].items()]
    if model.get("parameters"):
        lines += ["parameters:", *_block(model["parameters"])]
    if "nodes" in model:
        lines.append("nodes:")
        lines += [f"  - {_flow(_node(node, registry))}" for node in model["nodes"]]
        edges = sorted((edge["from"], edge["to"]) for edge in model.get("edges", ()))
        lines.append("edges:" + ("" if edges else " []"))
        lines += [f"  - {_flow({'from': source, 'to': target})}" for source, target in edges]
    return "\n".join(lines) + "\n"


def from_yaml(text: str, path: Path) -> dict[str, Any]:
    """The designer's model of a flow file (ValueError when it is not a flow mapping)."""
    raw = _json_safe(load_yaml_text(text, path))
    if not isinstance(raw, dict):
        raise ValueError(f"{path.name}: expected a flow mapping")
    header = raw.get("flow") if isinstance(raw.get("flow"), dict) else {}
    model: dict[str, Any] = {
        "flow": {key: str(header.get(key, "")) for key in ("id", "name", "description")},
        "parameters": raw.get("parameters") or {},
    }
    if isinstance(raw.get("use_blueprint"), dict):
        use = raw["use_blueprint"]
        model["use_blueprint"] = {"path": str(use.get("path", "")), "inputs": use.get("inputs") or {}}
        return model
    model["nodes"] = [
        {
            "id": str(item.get("id", "")),
            "type": str(item.get("type", "")),
            "parameters": {k: v for k, v in item.items() if k not in ("id", "type", "ui")},
            "ui": item.get("ui") or {},
        }
        for item in raw.get("nodes") or []
        if isinstance(item, dict)
    ]
    model["edges"] = [
        {"from": str(edge.get("from", "")), "to": str(edge.get("to", ""))}
        for edge in raw.get("edges") or []
        if isinstance(edge, dict)
    ]
    return model


def _json_safe(value: Any) -> Any:
    """Plain dicts and lists (not the loader's marked ones); dates (holidays) as ISO text, read alike."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value.isoformat() if isinstance(value, date) else value


def _node(node: Mapping[str, Any], registry: NodeRegistry) -> dict[str, Any]:
    node_type = registry.get(node["type"])
    given = dict(node.get("parameters") or {})
    order = [entry["name"] for entry in node_type_json(node_type, "")["parameters"]] if node_type else []
    ordered = {name: given.pop(name) for name in order if name in given}
    written = {"id": node["id"], "type": node["type"], **ordered, **given}
    if node.get("ui"):
        written["ui"] = {axis: round(node["ui"][axis]) for axis in ("x", "y") if axis in node["ui"]}
    return written


def _flow(value: Any) -> str:
    """One value in YAML flow style, on one line."""
    return (
        yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=_WIDTH)
        .strip()
        .removesuffix("\n...")
    )


def _block(mapping: Mapping[str, Any]) -> list[str]:
    return [f"  {_flow(key)}: {_flow(value)}" for key, value in mapping.items()]
