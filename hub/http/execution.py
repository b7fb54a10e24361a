"""REST: what the flows are doing (status, state, logs, traces), start/stop/restart, dry runs and replay."""

from typing import Any

import voluptuous as vol
from aiohttp import web

from hub.config import boolean, integer, number
from hub.flows.runner import FlowRunner, FlowState
from hub.flows.service import FlowService
from hub.http.errors import api_error
from hub.http.flows import flows_of
from hub.http.validation import read_body

routes = web.RouteTableDef()

_DRY_RUN = vol.Schema({vol.Required("enabled"): boolean})
_REPLAY = vol.Schema({vol.Optional("hours", default=24.0): number(0.001, 24, "a number of hours")})
_LIMIT = integer(1, 10_000)


@routes.get("/api/execution/status")
async def status(request: web.Request) -> web.Response:
    """Every flow: state (running, stopped, errored, invalid), mode, error, runs and its issues."""
    service = flows_of(request)
    flows = [_status(service, flow_id) for flow_id in sorted(_flow_ids(service))]
    return web.json_response({"version": service.version and service.version.version, "flows": flows})


@routes.get("/api/execution/state")
async def state(request: web.Request) -> web.Response:
    """Each running flow's live state: pending timers and recent writes (`?flow_id=` for one)."""
    service = flows_of(request)
    wanted = request.query.get("flow_id")
    runners = [_runner(service, wanted)] if wanted else list(service.engine)
    return web.json_response({"flows": [_state(runner) for runner in runners]})


@routes.get("/api/execution/logs")
async def logs(request: web.Request) -> web.Response:
    """The newest execution log lines, oldest first (`?flow_id=`, `?limit=` up to 10000, default 200)."""
    limit = _query_int(request, "limit", 200)
    lines = flows_of(request).engine.ctx.logs.lines(request.query.get("flow_id"), limit)
    return web.json_response({"logs": [line.json() for line in lines]})


@routes.post("/api/execution/{action:start|stop|restart}")
async def all_flows(request: web.Request) -> web.Response:
    """Start, stop or restart every valid flow."""
    service = flows_of(request)
    for flow_id in sorted(service.checked.runnable):
        await _act(service, flow_id, request.match_info["action"])
    return await status(request)


@routes.post("/api/execution/flows/{flow_id}/{action:start|stop|restart}")
async def one_flow(request: web.Request) -> web.Response:
    """Start, stop or restart one flow (a restart is live, ending a dry run)."""
    service = flows_of(request)
    flow_id = _valid_id(service, request.match_info["flow_id"])
    await _act(service, flow_id, request.match_info["action"])
    return web.json_response(_status(service, flow_id))


@routes.get("/api/flows/{flow_id}/traces")
async def traces(request: web.Request) -> web.Response:
    """The flow's last runs (up to `flows.trace_depth`), newest last: each node's input, outputs, duration."""
    runner = _runner(flows_of(request), request.match_info["flow_id"])
    limit = _query_int(request, "limit", runner.traces.depth or 1)
    return web.json_response(
        {"flow_id": runner.spec.id, "runs": [r.json() for r in runner.traces.runs()[-limit:]]}
    )


@routes.post("/api/flows/{flow_id}/dry-run")
async def dry_run(request: web.Request) -> web.Response:
    """Restart the flow in dry run (`enabled: true`: writes recorded, not sent) or live again."""
    service = flows_of(request)
    flow_id = _valid_id(service, request.match_info["flow_id"])
    body = await read_body(request, _DRY_RUN)
    runner = await service.start_flow(flow_id, dry_run=body["enabled"])
    return web.json_response(_state(runner))


@routes.get("/api/flows/{flow_id}/dry-run")
async def dry_run_writes(request: web.Request) -> web.Response:
    """The writes the flow recorded (in dry run) or sent (live), newest last."""
    return web.json_response(_state(_runner(flows_of(request), request.match_info["flow_id"])))


@routes.post("/api/flows/{flow_id}/replay")
async def replay(request: web.Request) -> web.Response:
    """Run the flow over the last `hours` (default 24) of stored samples: what it would have written, when."""
    service = flows_of(request)
    flow_id = _valid_id(service, request.match_info["flow_id"])
    body = await read_body(request, _REPLAY)
    return web.json_response((await service.replay(flow_id, body["hours"])).json())


async def _act(service: FlowService, flow_id: str, action: str) -> None:
    runner = service.runner(flow_id)
    if action == "stop":
        await service.stop_flow(flow_id)
    elif action == "restart" or runner is None or runner.state != FlowState.RUNNING:
        await service.start_flow(flow_id)


def _flow_ids(service: FlowService) -> set[str]:
    return set(service.checked.runnable) | set(service.checked.loaded.set_aside)


def _status(service: FlowService, flow_id: str) -> dict[str, Any]:
    runner = service.runner(flow_id)
    spec = service.checked.runnable.get(flow_id)
    if spec is None:
        state, key = "invalid", service.checked.loaded.set_aside[flow_id]
    else:
        state, key = (str(runner.state) if runner else "stopped"), spec.key
    return {
        "id": flow_id,
        "name": spec.name if spec else flow_id,
        "file": key,
        "blueprint": spec.blueprint if spec else None,
        "state": state,
        "dry_run": bool(runner and runner.dry_run),
        "error": runner.error if runner else None,
        "runs": runner.runs if runner else 0,
        "issues": [issue.json() for issue in service.issues_of(flow_id)],
    }


def _state(runner: FlowRunner) -> dict[str, Any]:
    return {
        "id": runner.spec.id,
        "state": str(runner.state),
        "dry_run": runner.dry_run,
        "runs": runner.runs,
        "timers": len(runner.timers),
        "writes": [write.json() for write in runner.writes],
    }


def _valid_id(service: FlowService, flow_id: str) -> str:
    if flow_id in service.checked.runnable:
        return flow_id
    if flow_id in service.checked.loaded.set_aside:
        raise api_error(web.HTTPConflict, f"flow_id: flow {flow_id!r} has errors (see /api/execution/status)")
    raise api_error(web.HTTPNotFound, f"flow_id: no flow {flow_id!r}")


def _runner(service: FlowService, flow_id: str) -> FlowRunner:
    runner = service.runner(_valid_id(service, flow_id))
    if runner is None:
        raise api_error(web.HTTPConflict, f"flow_id: flow {flow_id!r} has not run")
    return runner


def _query_int(request: web.Request, name: str, default: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        return _LIMIT(int(text))
    except (ValueError, vol.Invalid):
        raise api_error(web.HTTPBadRequest, f"{name}: expected an integer between 1 and 10000") from None
