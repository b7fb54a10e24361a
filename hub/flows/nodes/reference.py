"""The node reference (docs/flows-nodes.md), generated from a registry so it cannot drift.

Regenerate with `python -m hub.flows.nodes.reference > docs/flows-nodes.md`; a test checks it is current.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from hub.flows.node import Category, Node, NodeRegistry, Port

_HEADER = """# Flow node reference

Every built-in node type: what it does, its ports (wire them in `edges:` as `node.port`) and its
parameters (written next to `id` and `type` in the node); the flow format itself is described in
[flows.md](flows.md), and `blueprints/` holds worked examples. Generated from the node registry by
`python -m hub.flows.nodes.reference > docs/flows-nodes.md`; a test fails when this file is stale.

Durations are written as `500ms`, `30s`, `5m`, `1h`, `2d` or a number of seconds. A node marked
*holds state across time* may close a feedback loop (the engine accepts a cycle through it).
"""


@dataclass(frozen=True)
class Parameter:
    """One key of a node's parameter schema, as the reference shows it."""

    name: str
    required: bool
    default: Any
    description: str


def parameters(node_type: type[Node]) -> Iterator[Parameter]:
    """The keys of a node type's SCHEMA (a mapping, possibly wrapped in vol.All with cross-checks)."""
    schema = node_type.SCHEMA.schema
    if isinstance(schema, vol.All):
        schema = next(part for part in schema.validators if isinstance(part, dict))
    for marker in schema:
        default = marker.default() if marker.default is not vol.UNDEFINED else None
        yield Parameter(
            str(marker.schema), isinstance(marker, vol.Required), default, marker.description or ""
        )


def _ports(title: str, ports: tuple[Port, ...]) -> list[str]:
    if not ports:
        return []
    rows = [f"| `{port.name}` | {port.type} | {port.description} |" for port in ports]
    return [f"| {title} | type | |", "|---|---|---|", *rows, ""]


def _default(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f"`{text}`"


def _section(node_type: type[Node], owner: str) -> list[str]:
    lines = [f"### `{node_type.TYPE}`", "", node_type.DESCRIPTION, ""]
    notes = [f"Registered by {owner}."] if owner != "core" else []
    if node_type.BREAKS_CYCLES:
        notes.append("Holds state across time.")
    if notes:
        lines += [" ".join(notes), ""]
    lines += _ports("input", node_type.INPUTS) + _ports("output", node_type.OUTPUTS)
    params = list(parameters(node_type))
    if params:
        lines += ["| parameter | | default | |", "|---|---|---|---|"]
        for param in params:
            need = "required" if param.required else "optional"
            default = _default(param.default) if param.default is not None else ""
            lines.append(f"| `{param.name}` | {need} | {default} | {param.description} |")
        lines.append("")
    return lines


def render(registry: NodeRegistry) -> str:
    """The whole reference as Markdown, grouped by palette category."""
    lines = [_HEADER]
    for category in Category:
        types = [node_type for node_type in registry if node_type.CATEGORY is category]
        if types:
            lines += [f"## {category.value.capitalize()}", ""]
            for node_type in types:
                lines += _section(node_type, registry.owner(node_type.TYPE))
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    from hub.flows.nodes import builtin_registry

    print(render(builtin_registry()), end="")
