"""Flow validation, every problem at once: node types, parameters, edges, port types, cycles, points.

Errors set a flow aside; warnings (a device offline now) do not. A blueprint on its own is checked
for what does not depend on its inputs' values (types, ports, cycles, parameters without `!input`).
"""

import difflib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import voluptuous as vol

from hub.flows.loader import IssueList, read_edges, read_nodes
from hub.flows.model import BlueprintSpec, Edge, FlowIssue, FlowSpec, NodeSpec, Severity
from hub.flows.node import Node, NodeRegistry
from hub.points import DeviceStatus, PointRegistry
from hub.yaml_loader import InputRef, MarkedDict, MarkedList


def validate_flow(flow: FlowSpec, registry: NodeRegistry, points: PointRegistry | None) -> list[FlowIssue]:
    """Every problem of a runnable flow; `points` None skips the point checks (no hub running)."""
    issues = _graph_issues(flow.id, flow.nodes, flow.edges, registry)
    for node in flow.nodes:
        node_type = registry.get(node.type)
        if node_type is None:
            continue
        params = _schema_issues(flow.id, node, node_type, issues)
        if params is not None and points is not None:
            _point_issues(flow.id, node, node_type, params, points, issues)
    return issues


def validate_blueprint(blueprint: BlueprintSpec, registry: NodeRegistry) -> list[FlowIssue]:
    """What can be checked in a blueprint before it has input values."""
    issues: list[FlowIssue] = []
    collector = IssueList(blueprint.key, issues)
    nodes = read_nodes(blueprint.raw, blueprint.file, collector)
    edges = read_edges(blueprint.raw, blueprint.file, collector)
    issues.extend(_graph_issues(blueprint.key, nodes, edges, registry))
    for node in nodes:
        node_type = registry.get(node.type)
        if node_type is not None and not _has_input_ref(node.params):
            _schema_issues(blueprint.key, node, node_type, issues)
    return issues


def params_of(node: NodeSpec, node_type: type[Node]) -> Mapping[str, Any]:
    """The node's parameters after its schema (defaults filled in); raises vol.Invalid."""
    return node_type.SCHEMA(dict(node.params))


def topological_order(
    nodes: Sequence[NodeSpec], edges: Iterable[Edge], registry: NodeRegistry
) -> tuple[list[str], list[str]]:
    """(node ids in evaluation order, ids left in an unbroken cycle); edges out of cycle breakers are cut."""
    ids = [node.id for node in nodes]
    breakers = {node.id for node in nodes if (t := registry.get(node.type)) is not None and t.BREAKS_CYCLES}
    successors: dict[str, list[str]] = {node_id: [] for node_id in ids}
    indegree = dict.fromkeys(ids, 0)
    for edge in edges:
        if edge.source in successors and edge.target in indegree and edge.source not in breakers:
            successors[edge.source].append(edge.target)
            indegree[edge.target] += 1
    ready = [node_id for node_id in ids if indegree[node_id] == 0]
    order: list[str] = []
    while ready:
        node_id = ready.pop(0)
        order.append(node_id)
        for target in successors[node_id]:
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    placed = set(order)
    return order, [node_id for node_id in ids if node_id not in placed]


def _graph_issues(
    flow_id: str, nodes: Sequence[NodeSpec], edges: Sequence[Edge], registry: NodeRegistry
) -> list[FlowIssue]:
    issues: list[FlowIssue] = []
    by_id = {node.id: node for node in nodes}
    for node in nodes:
        if registry.get(node.type) is None:
            close = difflib.get_close_matches(node.type, [t.TYPE for t in registry], n=1)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else "the types are listed by GET /api/flows/node-types"
            )
            issues.append(_error(flow_id, node, f"unknown node type {node.type!r} ({hint})"))
    for edge in edges:
        ends = []
        for node_id, port, outputs in (
            (edge.source, edge.source_port, True),
            (edge.target, edge.target_port, False),
        ):
            node = by_id.get(node_id)
            node_type = registry.get(node.type) if node is not None else None
            if node is None:
                issues.append(
                    FlowIssue(
                        Severity.ERROR, edge.mark, flow_id, node_id, f"dangling edge: no node {node_id}"
                    )
                )
                continue
            if node_type is None:
                continue
            found = node_type.output(port) if outputs else node_type.input(port)
            if found is None:
                side = "output" if outputs else "input"
                names = [p.name for p in (node_type.OUTPUTS if outputs else node_type.INPUTS)]
                known = ", ".join(names) or "none"
                message = f"dangling edge: {node.type} has no {side} port {port!r} ({side}s: {known})"
                issues.append(FlowIssue(Severity.ERROR, edge.mark, flow_id, node_id, message))
                continue
            ends.append(found)
        if len(ends) == 2 and not ends[1].type.accepts(ends[0].type):
            message = (
                f"port type mismatch: {edge.source}.{edge.source_port} gives {ends[0].type}, "
                f"{edge.target}.{edge.target_port} takes {ends[1].type}"
            )
            issues.append(FlowIssue(Severity.ERROR, edge.mark, flow_id, edge.target, message))
    _, cyclic = topological_order(nodes, edges, registry)
    if cyclic:
        path = " -> ".join(_cycle(cyclic, edges))
        message = f"cycle {path} is not broken by a delay or state node"
        issues.append(_error(flow_id, by_id[cyclic[0]], message))
    return issues


def _cycle(cyclic: list[str], edges: Iterable[Edge]) -> list[str]:
    """One cycle through the nodes left over, as a path that ends where it starts."""
    inside = set(cyclic)
    successors = {
        node_id: [e.target for e in edges if e.source == node_id and e.target in inside] for node_id in cyclic
    }
    path, seen = [cyclic[0]], {cyclic[0]}
    while True:
        following = next((t for t in successors[path[-1]] if t in inside), None)
        if following is None or following in seen:
            return [*path[path.index(following) :], following] if following in seen else path
        path.append(following)
        seen.add(following)


def _schema_issues(
    flow_id: str, node: NodeSpec, node_type: type[Node], issues: list[FlowIssue]
) -> Mapping[str, Any] | None:
    try:
        return params_of(node, node_type)
    except vol.Invalid as err:
        errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
        for error in errors:
            name = error.path[0] if error.path else None
            where = ".".join(str(part) for part in error.path) or "parameters"
            mark = node.param_marks.get(name, node.mark) if name is not None else node.mark
            message = {
                "extra keys not allowed": "unknown parameter",
                "required key not provided": "required",
            }.get(error.msg, error.msg)
            issues.append(
                FlowIssue(Severity.ERROR, mark, flow_id, node.id, f"bad parameter {where}: {message}")
            )
        return None


def _point_issues(
    flow_id: str,
    node: NodeSpec,
    node_type: type[Node],
    params: Mapping[str, Any],
    points: PointRegistry,
    issues: list[FlowIssue],
) -> None:
    for name in node_type.POINT_PARAMS:
        mark = node.param_marks.get(name, node.mark)
        for point_id in _point_ids(params.get(name)):
            try:
                point = points.point(point_id)
            except KeyError:
                issues.append(
                    FlowIssue(Severity.ERROR, mark, flow_id, node.id, f"{name}: unknown point {point_id!r}")
                )
                continue
            if name in node_type.WRITE_PARAMS and not point.writable:
                message = f"{name}: point {point_id!r} is not writable"
                issues.append(FlowIssue(Severity.ERROR, mark, flow_id, node.id, message))
            status = points.device_state(point.device_id).status
            if status in (DeviceStatus.OFFLINE, DeviceStatus.ERROR):
                message = f"{name}: device {point.device_id!r} of point {point_id!r} is {status}"
                issues.append(FlowIssue(Severity.WARNING, mark, flow_id, node.id, message))


def _point_ids(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def _has_input_ref(value: Any) -> bool:
    if isinstance(value, InputRef):
        return True
    if isinstance(value, MarkedDict | dict):
        return any(_has_input_ref(item) for item in value.values())
    if isinstance(value, MarkedList | list):
        return any(_has_input_ref(item) for item in value)
    return False


def _error(flow_id: str, node: NodeSpec, message: str) -> FlowIssue:
    return FlowIssue(Severity.ERROR, node.mark, flow_id, node.id, message)
