"""REST: flow deployments (validate, deploy, current, reload, versions, diff, rollback) and the palette.

A deployment body names files by key (`flows/vav_1.yaml`) or bare name (put in the last flow folder),
each with its YAML text, or null to delete it. A deploy with any flow error is refused with 400 and
every issue (file, line, flow, node, message); nothing changes.
"""

from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.config import integer
from hub.flows.deployment import diff_files, flow_changes
from hub.flows.loader import load_deployment
from hub.flows.palette import palette
from hub.flows.service import DeployRefused, FlowsDeployed, FlowService
from hub.http.errors import api_error
from hub.http.keys import HUB_KEY, USER_KEY
from hub.http.validation import read_body

routes = web.RouteTableDef()


def _files(value: Any) -> dict[str, str | None]:
    if not isinstance(value, dict) or not value:
        raise vol.Invalid("expected an object of file name -> YAML text (or null to delete the file)")
    for name, text in value.items():
        if text is not None and not isinstance(text, str):
            raise vol.Invalid("expected YAML text or null", [name])
    return value


_VALIDATE = vol.Schema({vol.Required("files"): _files})
_DEPLOY = vol.Schema({vol.Required("files"): _files, vol.Optional("note", default=""): str})
_LAST_VERSION = 2**63 - 1  # the largest SQLite integer: a higher number is no version


def flows_of(request: web.Request) -> FlowService:
    return request.app[HUB_KEY].flows


@routes.get("/api/flows/node-types")
async def node_types(request: web.Request) -> web.Response:
    """The palette: every node type with its category, description, ports and parameters."""
    return web.json_response({"node_types": palette(flows_of(request).registry)})


@routes.post("/api/config/validate")
async def validate(request: web.Request) -> web.Response:
    """Every issue the deployment would have, without deploying it."""
    body = await read_body(request, _VALIDATE)
    try:
        checked = flows_of(request).validate(body["files"])
    except DeployRefused as err:
        raise api_error(web.HTTPBadRequest, f"files: {err}") from None
    return web.json_response(
        {
            "valid": not checked.errors,
            "flows": sorted(checked.runnable),
            "set_aside": sorted(checked.loaded.set_aside),
            "issues": [issue.json() for issue in checked.issues],
        }
    )


@routes.post("/api/config/deploy")
async def deploy(request: web.Request) -> web.Response:
    """Deploy changed files as a new version (author: the caller); only changed flows restart."""
    body = await read_body(request, _DEPLOY)
    return await _deployed(flows_of(request).deploy(body["files"], request[USER_KEY], body["note"]))


@routes.get("/api/config/current")
async def current(request: web.Request) -> web.Response:
    """The running deployment: its version and files, the flows it runs and those set aside."""
    service = flows_of(request)
    version = service.version
    return web.json_response(
        {
            "version": version.summary() if version else None,
            "files": dict(service.checked.files),
            "flows": sorted(service.checked.runnable),
            "set_aside": sorted(service.checked.loaded.set_aside),
            "issues": [issue.json() for issue in service.checked.issues],
        }
    )


@routes.post("/api/config/reload")
async def reload(request: web.Request) -> web.Response:
    """Load the flow folders as they are on disk (flows with errors set aside)."""
    deployed = await flows_of(request).reload(request[USER_KEY])
    return web.json_response(deployed.json())


@routes.get("/api/config/versions")
async def versions(request: web.Request) -> web.Response:
    """Every stored flows version, oldest first (without the files)."""
    return web.json_response({"versions": [v.summary() for v in await flows_of(request).versions()]})


@routes.get("/api/config/versions/{version}")
async def get_version(request: web.Request) -> web.Response:
    """One version with its files."""
    version = await _version(request, request.match_info["version"], "version")
    return web.json_response({**version.summary(), "files": dict(version.files)})


@routes.get("/api/config/versions/{version}/diff")
async def diff(request: web.Request) -> web.Response:
    """What changed from `?against=N` (default: the version before) to this version: text and per flow."""
    service = flows_of(request)
    version = await _version(request, request.match_info["version"], "version")
    against = request.query.get("against")
    if against is None:
        older = [v for v in await service.versions() if v.version < version.version]
        old_files = dict(older[-1].files) if older else {}
        old_number = older[-1].version if older else None
    else:
        old = await _version(request, against, "against")
        old_files, old_number = dict(old.files), old.version
    base = service.files.base
    changes = flow_changes(load_deployment(old_files, base).flows, load_deployment(version.files, base).flows)
    return web.json_response(
        {
            "from": old_number,
            "to": version.version,
            "diff": diff_files(old_files, version.files),
            "flows": changes,
        }
    )


@routes.post("/api/config/versions/{version}/rollback")
async def rollback(request: web.Request) -> web.Response:
    """Deploy an old version's files again, as a new version."""
    version = await _version(request, request.match_info["version"], "version")
    return await _deployed(flows_of(request).rollback(version.version, request[USER_KEY]))


async def _deployed(deploying: Any) -> web.Response:
    try:
        deployed: FlowsDeployed = await deploying
    except DeployRefused as err:
        body = {"error": f"files: {err}", "issues": [issue.json() for issue in err.issues]}
        return web.json_response(body, status=400)
    return web.json_response(deployed.json())


async def _version(request: web.Request, text: str, field: str) -> Any:
    try:
        number = integer(1, _LAST_VERSION)(int(text))
    except (ValueError, vol.Invalid):
        raise api_error(web.HTTPBadRequest, f"{field}: expected a version number, got {text!r}") from None
    try:
        return await flows_of(request).get_version(number)
    except KeyError:
        raise api_error(web.HTTPNotFound, f"{field}: no flows version {number}") from None
