"""Flow pages: the deployed flows with their state and versions, a version's diff, and the designer.

The designer (frontend/static/js/designer*.js) edits a JSON model of one flow; `POST /flows/yaml`
turns it into the flow file's text (hub.flows.writer: stable, one line per node) and checks it with
the other files, so the page can outline the nodes with errors. Deploying and starting go through
the REST API (/api/config/deploy, /api/execution/...), like any other client.
"""

import time
from pathlib import Path
from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.codec import iso
from hub.flows.deployment import diff_files
from hub.flows.model import FlowIssue, FlowSpec
from hub.flows.palette import palette
from hub.flows.service import DeployRefused, FlowService
from hub.flows.writer import from_yaml, to_yaml
from hub.http.errors import api_error
from hub.http.execution import _status
from hub.http.flows import flows_of
from hub.http.point_rows import format_age
from hub.http.validation import read_body
from hub.http.views_page import page

routes = web.RouteTableDef()

_ID = vol.Match(r"^[A-Za-z0-9_-]{1,64}$", msg="expected 1 to 64 letters, digits, '_' or '-'")
_ENDPOINT = vol.Match(r"^[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_]+$", msg="expected node.port")
_POSITION = vol.Schema({vol.Optional("x"): vol.Coerce(float), vol.Optional("y"): vol.Coerce(float)})
_NODE = vol.Schema(
    {
        vol.Required("id"): _ID,
        vol.Required("type"): str,
        vol.Optional("parameters", default=dict): dict,
        vol.Optional("ui", default=dict): _POSITION,
    }
)
_MODEL = vol.Schema(
    {
        vol.Required("flow"): {
            vol.Required("id"): _ID,
            vol.Optional("name", default=""): str,
            vol.Optional("description", default=""): str,
        },
        vol.Optional("parameters", default=dict): dict,
        vol.Optional("nodes"): [_NODE],
        vol.Optional("edges", default=list): [
            {vol.Required("from"): _ENDPOINT, vol.Required("to"): _ENDPOINT}
        ],
        vol.Optional("use_blueprint"): {
            vol.Required("path"): str,
            vol.Optional("inputs", default=dict): dict,
        },
    }
)
_SAVE = vol.Schema({vol.Required("model"): _MODEL, vol.Optional("file"): vol.Any(None, str)})


@routes.get("/flows")
async def flow_list(request: web.Request) -> web.Response:
    """Every flow with its state and issues, and the version history (newest first)."""
    service = flows_of(request)
    ids = sorted(set(service.checked.runnable) | set(service.checked.loaded.set_aside))
    now = time.time()
    versions = [
        {
            **version.summary(),
            "when": iso(version.created_at),
            "ago": format_age(max(0.0, now - version.created_at)),
        }
        for version in reversed(await service.versions())
    ]
    return await page(
        request,
        "pages/flows.html",
        "/flows",
        flows=[_status(service, flow_id) for flow_id in ids],
        versions=versions,
        current=service.version.version if service.version else None,
    )


@routes.get("/flows/versions/{version}")
async def version_diff(request: web.Request) -> web.Response:
    """One version: who, when, why, and its diff against the version before it."""
    service = flows_of(request)
    versions = await service.versions()
    wanted = request.match_info["version"]
    found = [index for index, version in enumerate(versions) if str(version.version) == wanted]
    if not found:
        return await page(request, "pages/not_found.html", "/flows", status=404, what="flows version")
    version = versions[found[0]]
    before = versions[found[0] - 1] if found[0] else None
    return await page(
        request,
        "pages/flows_version.html",
        "/flows",
        version={**version.summary(), "when": iso(version.created_at)},
        before=before.version if before else None,
        diff=diff_files(dict(before.files) if before else {}, version.files),
        current=service.version.version if service.version else None,
    )


@routes.get("/flows/new")
async def new_flow(request: web.Request) -> web.Response:
    """The designer on an empty flow."""
    model = {"flow": {"id": "", "name": "", "description": ""}, "parameters": {}, "nodes": [], "edges": []}
    return await _designer(request, model, file=None, spec=None)


@routes.get("/flows/{flow_id}/edit")
async def edit_flow(request: web.Request) -> web.Response:
    """The designer on a deployed flow (its file as it runs now)."""
    service = flows_of(request)
    flow_id = request.match_info["flow_id"]
    spec = service.checked.runnable.get(flow_id)
    key = spec.key if spec else service.checked.loaded.set_aside.get(flow_id)
    if key is None or key not in service.checked.files:
        return await page(request, "pages/not_found.html", "/flows", status=404, what="flow")
    try:
        model = from_yaml(service.checked.files[key], service.files.base / key)
    except ValueError as err:
        model = {
            "flow": {"id": flow_id, "name": "", "description": ""},
            "nodes": [],
            "edges": [],
            "error": str(err),
        }
    model["flow"]["id"] = model["flow"]["id"] or flow_id  # a file without flow.id is named by its file
    return await _designer(request, model, file=key, spec=spec)


@routes.post("/flows/yaml")
async def flow_yaml(request: web.Request) -> web.Response:
    """The flow file for the designer's model, and every issue it would have once deployed."""
    body = await read_body(request, _SAVE)
    service = flows_of(request)
    model = body["model"]
    if ("nodes" in model) == ("use_blueprint" in model):
        raise api_error(web.HTTPUnprocessableEntity, "model: expected either nodes or use_blueprint")
    text = to_yaml(model, service.registry)
    key = service.files.user_key(body.get("file") or f"{model['flow']['id']}.yaml")
    try:
        checked = service.validate({key: text})
    except DeployRefused as err:
        raise api_error(web.HTTPBadRequest, f"file: {err}") from None
    path = service.files.base / key
    return web.json_response(
        {
            "file": key,
            "yaml": text,
            "valid": not checked.errors,
            "issues": [issue.json() for issue in checked.issues if _concerns(issue, model, path)],
        }
    )


async def _designer(
    request: web.Request, model: dict[str, Any], file: str | None, spec: FlowSpec | None
) -> web.Response:
    service = flows_of(request)
    flow_id = model["flow"]["id"]
    return await page(
        request,
        "pages/flows_designer.html",
        "/flows",
        flow_id=flow_id,
        data={
            "model": model,
            "file": file,
            "palette": palette(service.registry),
            "blueprint": _blueprint(service, spec) if "use_blueprint" in model else None,
            "running": bool(spec and (runner := service.runner(flow_id)) and str(runner.state) == "running"),
            "issues": [issue.json() for issue in service.issues_of(flow_id)] if file else [],
        },
    )


def _blueprint(service: FlowService, spec: FlowSpec | None) -> dict[str, Any] | None:
    """An instance's blueprint: its inputs (the instance's form) and its nodes (shown, not editable)."""
    blueprint = service.checked.loaded.blueprints.get(spec.blueprint) if spec and spec.blueprint else None
    if spec is None or blueprint is None:
        return None
    return {
        "file": blueprint.key,
        "name": blueprint.name,
        "inputs": [
            {
                "name": i.name,
                "type": str(i.type),
                "description": i.description,
                "default": i.default,
                "required": i.required,
            }
            for i in blueprint.inputs
        ],
        "nodes": [
            {"id": n.id, "type": n.type, "parameters": dict(n.params), "ui": dict(n.ui)} for n in spec.nodes
        ],
        "edges": [
            {"from": f"{e.source}.{e.source_port}", "to": f"{e.target}.{e.target_port}"} for e in spec.edges
        ],
    }


def _concerns(issue: FlowIssue, model: dict[str, Any], path: Path) -> bool:
    """An issue of the edited flow (other files' issues belong to their own pages)."""
    return issue.flow_id == model["flow"]["id"] or (issue.mark is not None and Path(issue.mark.file) == path)
