"""FlowService: loads the flow folders, runs the valid flows, deploys, versions, rolls back, hot-reloads.

The files in the flow folders (kept in git) are the source of truth. Every deployment that changes
them is stored as a version (who, when, note; the diff is computed between versions) and audited in
the events table. Deploys through the API are refused when any flow has an error; files changed on
disk are loaded as they are, flows with errors set aside. Only flows whose content changed restart.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hub.bus import Bus
from hub.commands import CommandService
from hub.config import FlowsConfig
from hub.flows.clock import LoopClock
from hub.flows.deployment import VERSION_NAME, Checked, FlowFiles, Version, check, version_content
from hub.flows.engine import AlarmSink, EngineContext, FlowEngine, Publish
from hub.flows.model import FlowIssue, Severity
from hub.flows.node import NodeRegistry
from hub.flows.replay import ReplayResult, replay
from hub.flows.runner import FlowRunner, FlowState
from hub.health import ComponentHealth, HealthStatus
from hub.points import DeviceAdded, PointRegistry, PointUpdate
from hub.store import Store
from hub.store_query import History

_LOGGER = logging.getLogger(__name__)


class DeployRefused(Exception):
    """A deployment that cannot run: bad file names, or flows with errors (`issues`)."""

    def __init__(self, message: str, issues: tuple[FlowIssue, ...] = ()) -> None:
        super().__init__(message)
        self.issues = issues


@dataclass(frozen=True)
class FlowsDeployed:
    """Published on the bus after every deployment (API, MQTT, reload, rollback, startup)."""

    version: int | None  # None when the files were those of the current version
    author: str
    started: tuple[str, ...]
    stopped: tuple[str, ...]
    issues: tuple[FlowIssue, ...] = field(default=())

    def json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "author": self.author,
            "started": list(self.started),
            "stopped": list(self.stopped),
            "issues": [issue.json() for issue in self.issues],
        }


class FlowService:
    """The hub's flows: files, the engine that runs them, deployments and versions."""

    def __init__(
        self,
        config: FlowsConfig,
        base: Path,
        registry: NodeRegistry,
        points: PointRegistry,
        commands: CommandService,
        bus: Bus,
        store: Store,
        publish: Publish | None = None,
        alarms: AlarmSink | None = None,
    ) -> None:
        self.config = config
        self.registry = registry
        self.points = points
        self.files = FlowFiles(base, config.directories)
        self._bus = bus
        self._store = store
        ctx = EngineContext(registry, LoopClock(), bus, points.latest, commands.write, publish, alarms)
        self.engine = FlowEngine(ctx, config.trace_depth)
        self.checked = check({}, base, registry, None)
        self.version: Version | None = None
        self._lock = asyncio.Lock()
        self._stamp: tuple[tuple[str, int, int], ...] = ()
        self._tasks: list[asyncio.Task[None]] = []
        self._devices_added = asyncio.Event()
        self._unsubscribe = [
            bus.subscribe(PointUpdate, ctx.watchers.on_update),
            bus.subscribe(DeviceAdded, self._on_device_added),
        ]

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Run the flows on disk (a new version when they differ from the last one); watch the files."""
        stored = await self._store.config_versions.list(VERSION_NAME)
        self.version = Version.parse(stored[-1]) if stored else None
        await self.reload("files", "startup")
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._recheck_set_aside(), name="flows-recheck"))
        if self.config.hot_reload:
            self._tasks.append(loop.create_task(self._watch_files(), name="flows-reload"))

    async def stop(self) -> None:
        """Stop every flow (their outputs relinquish) and the file watcher."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        await self.engine.stop_all()
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    # -- deployments --------------------------------------------------------------------------

    def validate(self, changes: Mapping[str, str | None]) -> Checked:
        """What deploying `changes` (file name or key -> text, None to delete) would give."""
        return check(self._merged(changes), self.files.base, self.registry, self.points)

    async def deploy(self, changes: Mapping[str, str | None], author: str, note: str = "") -> FlowsDeployed:
        """Write the changed files, store a version and restart what changed; refused on any error."""
        return await self._apply(lambda: self.validate(changes), author, note, write=True)

    async def rollback(self, version: int, author: str) -> FlowsDeployed:
        """Deploy the files of an old version (a new version with the same files)."""
        old = await self.get_version(version)
        return await self._apply(
            lambda: check(old.files, self.files.base, self.registry, self.points),
            author,
            f"rollback to version {version}",
            write=True,
            kind="rollback",
        )

    async def reload(self, author: str, note: str = "reload") -> FlowsDeployed:
        """Load the files as they are on disk; flows with errors are set aside, the others run."""
        return await self._apply(self._read_files, author, note, write=False)

    def _check_running_files(self) -> Checked:
        return check(self.checked.files, self.files.base, self.registry, self.points)

    def _read_files(self) -> Checked:
        self._stamp = self.files.stamp()
        return check(self.files.read(), self.files.base, self.registry, self.points)

    async def get_version(self, version: int) -> Version:
        """A stored flows version; KeyError when there is none with that number."""
        stored = await self._store.config_versions.get(version)
        if stored.name != VERSION_NAME:
            raise KeyError(version)
        return Version.parse(stored)

    async def versions(self) -> list[Version]:
        return [Version.parse(v) for v in await self._store.config_versions.list(VERSION_NAME)]

    def _merged(self, changes: Mapping[str, str | None]) -> dict[str, str]:
        """The files on disk with `changes` applied (a file added on disk since the last load is kept)."""
        files = self.files.read()
        for name, text in changes.items():
            key = self.files.user_key(name)
            try:
                self.files.path(key)
            except ValueError as err:
                raise DeployRefused(str(err)) from None
            if text is None:
                files.pop(key, None)
            else:
                files[key] = text
        return files

    async def _apply(
        self, make: Callable[[], Checked], author: str, note: str, *, write: bool, kind: str = "deploy"
    ) -> FlowsDeployed:
        """Run what `make` checks instead of what runs now; only changed flows restart.

        `make` runs under the lock, so a deploy merges with the files as the previous one left them.
        With `write` (API, MQTT, rollback) any error refuses the deployment; a reload sets flows aside.
        """
        async with self._lock:
            checked = make()
            if write and checked.errors:
                what = (
                    f"{len(checked.errors)} errors" if kind == "deploy" else f"{note}: it no longer validates"
                )
                raise DeployRefused(f"{what}: nothing was deployed", checked.issues)
            if write:
                self.files.write(checked.files)
                self._stamp = self.files.stamp()
            old, new = self.checked.runnable, checked.runnable
            stopped = [i for i in old if i not in new or old[i].fingerprint != new[i].fingerprint]
            stopped += [
                i for i in checked.loaded.set_aside if self.engine.get(i) is not None and i not in stopped
            ]
            for flow_id in stopped:
                await self.engine.remove(flow_id)
            started = [i for i in new if i not in old or old[i].fingerprint != new[i].fingerprint]
            started += [i for i in new if self.engine.get(i) is None and i not in started]
            for flow_id in started:
                self.engine.start(new[flow_id])
            self.checked = checked
            version = None
            previous = dict(self.version.files) if self.version else {}  # no flows ever: nothing to version
            if previous != checked.files:
                saved = await self._store.config_versions.save(
                    VERSION_NAME, version_content(checked.files, note), author
                )
                self.version = Version.parse(saved)
                version = saved.version
                await self._audit(kind, author, note, version, started, stopped)
        for issue in checked.issues:
            _LOGGER.log(logging.WARNING if issue.severity == Severity.WARNING else logging.ERROR, "%s", issue)
        deployed = FlowsDeployed(version, author, tuple(started), tuple(stopped), checked.issues)
        self._bus.publish(deployed)
        return deployed

    async def _audit(
        self, kind: str, author: str, note: str, version: int, started: list[str], stopped: list[str]
    ) -> None:
        """One row in the events table (kind flows_deploy or flows_rollback)."""
        data = {"author": author, "note": note, "version": version, "started": started, "stopped": stopped}
        async with self._store.transaction() as db:
            await db.execute(
                "INSERT INTO events (ts, kind, subject, data) VALUES (?, ?, ?, ?)",
                (int(time.time() * 1000), f"flows_{kind}", VERSION_NAME, json.dumps(data)),
            )

    async def _watch_files(self) -> None:
        """Reload when the files changed and then stayed unchanged for the debounce time."""
        while True:
            await asyncio.sleep(self.config.reload_poll_interval)
            stamp = self.files.stamp()
            if stamp == self._stamp:
                continue
            while True:
                await asyncio.sleep(self.config.reload_debounce)
                settled = self.files.stamp()
                if settled == stamp:
                    break
                stamp = settled
            try:
                await self.reload("files", "hot reload")
            except Exception:
                _LOGGER.exception("reloading the flows failed; the running flows are unchanged")

    def _on_device_added(self, _: DeviceAdded) -> None:
        if self.checked.loaded.set_aside:
            self._devices_added.set()

    async def _recheck_set_aside(self) -> None:
        """Check the running files again when devices appear: flows set aside for their points may run now."""
        while True:
            await self._devices_added.wait()
            await asyncio.sleep(self.config.reload_debounce)  # devices come in bursts (a discovery)
            self._devices_added.clear()
            try:
                await self._apply(self._check_running_files, "system", "devices added", write=False)
            except Exception:
                _LOGGER.exception("checking the flows again failed; the running flows are unchanged")

    # -- per flow -----------------------------------------------------------------------------

    def runner(self, flow_id: str) -> FlowRunner | None:
        return self.engine.get(flow_id)

    async def start_flow(self, flow_id: str, dry_run: bool = False) -> FlowRunner:
        """(Re)start a valid flow, live or in dry run; KeyError when no valid flow has that id."""
        spec = self.checked.runnable[flow_id]
        await self.engine.remove(flow_id)
        return self.engine.start(spec, dry_run)

    async def stop_flow(self, flow_id: str) -> None:
        if flow_id not in self.checked.runnable:
            raise KeyError(flow_id)
        await self.engine.stop(flow_id)

    def issues_of(self, flow_id: str) -> list[FlowIssue]:
        return [issue for issue in self.checked.issues if issue.flow_id == flow_id]

    def health(self) -> ComponentHealth:
        """Degraded while a flow is errored or set aside with errors."""
        counts = self.engine.counts()
        invalid = len(self.checked.loaded.set_aside)
        bad = counts[str(FlowState.ERRORED)] + invalid
        status = HealthStatus.DEGRADED if bad else HealthStatus.OK
        totals = self.engine.ctx.totals
        return ComponentHealth(
            status,
            {
                **counts,
                "invalid": invalid,
                "version": self.version and self.version.version,
                "runs": totals.runs,
                "run_errors": totals.errors,
                "run_seconds": round(totals.seconds, 6),
            },
        )

    async def replay(self, flow_id: str, hours: float) -> ReplayResult:
        """Replay a valid flow against the last `hours` of stored samples; KeyError for an unknown flow."""
        spec = self.checked.runnable[flow_id]
        await self._store.flush()  # the newest samples too
        end = time.time()
        return await replay(spec, self.registry, History(self._store), end - hours * 3600, end)
