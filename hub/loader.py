"""Set up, report and unload the configured integrations: the entry-point loader.

Installed is not enabled: `find_integrations()` lists what the `bms_hub.integrations` entry points
offer, and the manager sets up only the domains named in the config. Every step that can go wrong
(not installed, import, module shape, config, setup, timeout) ends that one integration with a
recorded state and reason; the other integrations and the hub carry on.
"""

import asyncio
import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from hub.health import ComponentHealth, HealthStatus
from hub.integration import Integration, IntegrationContext
from hub.points import PointRegistry
from hub.preflight import (
    FoundIntegration,
    IntegrationCheck,
    IntegrationState,
    Locator,
    Ready,
    Rejected,
    check_integration_configs,
    find_integrations,
    prepare,
    validate_integration_configs,
)
from hub.supervisor import Supervisor

__all__ = [
    "FoundIntegration",
    "IntegrationCheck",
    "IntegrationHost",
    "IntegrationManager",
    "IntegrationState",
    "IntegrationStatus",
    "Polling",
    "check_integration_configs",
    "find_integrations",
    "validate_integration_configs",
]

_LOGGER = logging.getLogger(__name__)
_PROTOCOL_MEMBERS = tuple(
    sorted({*Integration.__annotations__, *(name for name in vars(Integration) if not name.startswith("_"))})
)


@dataclass(frozen=True)
class IntegrationStatus:
    """Where a configured integration stands, and why when it is not loaded."""

    domain: str
    state: IntegrationState
    version: str | None
    error: str | None


class Polling(Protocol):
    """The part of the poller the manager drives."""

    def attach(self, domain: str, integration: Integration) -> None: ...

    def detach(self, domain: str) -> None: ...


class IntegrationHost(Protocol):
    """What the manager needs from the hub (the Hub implements it; tests pass a small stand-in)."""

    @property
    def points(self) -> PointRegistry: ...

    @property
    def supervisor(self) -> Supervisor: ...

    @property
    def poller(self) -> Polling: ...

    def integration_context(self, domain: str) -> IntegrationContext:
        """A fresh context for `domain`; the manager undoes what it registered on unload."""
        ...


def _protocol_problem(integration: object) -> str | None:
    """Why the object async_setup returned is not an Integration, or None."""
    if isinstance(integration, Integration):
        size = integration.batch_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            return f"its batch_size must be an int >= 1, not {size!r}"
        return None
    missing = [name for name in _PROTOCOL_MEMBERS if not hasattr(integration, name)]
    return f"{type(integration).__name__} is not an Integration (missing {', '.join(missing)})"


class _Failed(Exception):
    """Setup went wrong after the context was created; the manager tears down and records it."""

    def __init__(self, state: IntegrationState, reason: str) -> None:
        self.state = state
        super().__init__(reason)


@dataclass
class _Loaded:
    context: IntegrationContext
    integration: Integration | None = None
    started: bool = False  # start() was called (stop() is owed even if start() raised)
    attached: bool = False


class IntegrationManager:
    """Sets up the configured integrations, reports their states, and unloads them cleanly."""

    def __init__(
        self,
        hub: IntegrationHost,
        setup_timeout: float = 60.0,
        warn_after: float = 10.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self._hub = hub
        self._setup_timeout = setup_timeout
        self._warn_after = warn_after
        self._stop_timeout = stop_timeout
        self._configured: list[str] = []
        self._statuses: dict[str, IntegrationStatus] = {}
        self._loaded: dict[str, _Loaded] = {}

    async def setup_all(self, configs: Mapping[str, Any], source: Path | None = None) -> None:
        """Set up every integration named in `configs` concurrently; failures are logged and recorded."""
        already = [domain for domain in configs if domain in self._loaded]
        if already:
            raise ValueError(f"integrations already loaded: {', '.join(already)}")
        found = find_integrations()
        locator = Locator(configs, source)
        self._configured.extend(domain for domain in configs if domain not in self._configured)
        await asyncio.gather(*(self._setup(domain, raw, found, locator) for domain, raw in configs.items()))

    def get(self, domain: str) -> Integration | None:
        """The loaded integration of `domain`, or None."""
        loaded = self._loaded.get(domain)
        return loaded.integration if loaded is not None else None

    def loaded(self) -> dict[str, Integration]:
        """Every loaded integration by domain."""
        return {domain: item.integration for domain, item in self._loaded.items() if item.integration}

    def statuses(self) -> list[IntegrationStatus]:
        """The state of every configured integration, in config order."""
        return [self._statuses[domain] for domain in self._configured if domain in self._statuses]

    async def unload(self, domain: str) -> None:
        """Stop polling, stop the integration, then undo its tasks, cleanups and registrations."""
        loaded = self._loaded.pop(domain, None)
        if loaded is None:
            return
        await self._teardown(domain, loaded)
        version = self._statuses[domain].version
        self._statuses[domain] = IntegrationStatus(domain, IntegrationState.STOPPED, version, None)
        _LOGGER.info("integration %s unloaded", domain)

    async def stop_all(self) -> None:
        """Unload every loaded integration, last set up first."""
        for domain in reversed(list(self._loaded)):
            await self.unload(domain)

    def health(self) -> ComponentHealth:
        """Degraded while a configured integration is not loaded or says it is unhealthy."""
        detail: dict[str, object] = {}
        degraded = False
        for status in self.statuses():
            entry: dict[str, object] = {"state": str(status.state), "version": status.version}
            if status.error:
                entry["error"] = status.error
            integration = self.get(status.domain)
            if integration is not None:
                try:
                    own = integration.health()
                    entry["health"] = {"status": str(own.status), **own.detail}
                    degraded = degraded or own.status != HealthStatus.OK
                except Exception as err:
                    entry["health"] = {"status": str(HealthStatus.DOWN), "error": repr(err)}
                    degraded = True
            elif status.state != IntegrationState.STOPPED:
                degraded = True
            detail[status.domain] = entry
        return ComponentHealth(
            HealthStatus.DEGRADED if degraded else HealthStatus.OK, {"integrations": detail}
        )

    # -- one integration ------------------------------------------------------------------

    async def _setup(
        self, domain: str, raw: Any, found: Mapping[str, FoundIntegration], locator: Locator
    ) -> None:
        entry = found.get(domain)
        version = entry.version if entry else None
        try:
            ready = prepare(domain, raw, found, locator)
        except Rejected as err:
            trace = err.__cause__ if err.state == IntegrationState.IMPORT_FAILED else None
            self._record_failure(domain, version, err.state, str(err), trace)
            return
        try:
            loaded = _Loaded(self._hub.integration_context(domain))
        except Exception as err:
            reason = f"cannot create its context: {type(err).__name__}: {err}"
            self._record_failure(domain, version, IntegrationState.SETUP_FAILED, reason, err)
            return
        self._loaded[domain] = loaded
        try:
            await self._start(domain, ready, loaded)
        except _Failed as err:
            del self._loaded[domain]
            await self._teardown(domain, loaded)
            trace = err.__cause__ if err.state == IntegrationState.SETUP_FAILED else None
            self._record_failure(domain, version, err.state, str(err), trace)
            return
        except asyncio.CancelledError:
            del self._loaded[domain]
            await self._teardown(domain, loaded)
            self._statuses[domain] = IntegrationStatus(domain, IntegrationState.STOPPED, version, "cancelled")
            raise
        self._statuses[domain] = IntegrationStatus(domain, IntegrationState.LOADED, version, None)
        _LOGGER.info("integration %s %s loaded", domain, version or "")

    async def _start(self, domain: str, ready: Ready, loaded: _Loaded) -> None:
        """async_setup, Protocol check and start() under the setup timeout, then attach to the poller."""
        loop = asyncio.get_running_loop()
        warning = loop.call_later(
            self._warn_after,
            _LOGGER.warning,
            "setup of integration %s is taking over %g s",
            domain,
            self._warn_after,
        )
        try:
            async with asyncio.timeout(self._setup_timeout):
                try:
                    integration = await ready.module.async_setup(loaded.context, ready.config)
                    problem = _protocol_problem(integration)
                    if problem is not None:
                        raise _Failed(IntegrationState.INVALID, f"async_setup returned {problem}")
                    loaded.integration = integration
                    loaded.started = True
                    await integration.start()
                except _Failed:
                    raise
                except Exception as err:  # the integration's own errors, its own TimeoutError included
                    step = "start()" if loaded.started else "async_setup"
                    raise _Failed(
                        IntegrationState.SETUP_FAILED, f"{step} raised {type(err).__name__}: {err}"
                    ) from err
        except TimeoutError as err:  # only the deadline's: everything else became _Failed above
            reason = f"setup did not finish within {self._setup_timeout:g} s"
            raise _Failed(IntegrationState.SETUP_TIMEOUT, reason) from err
        finally:
            warning.cancel()
        try:
            self._hub.poller.attach(domain, integration)
        except Exception as err:
            raise _Failed(
                IntegrationState.SETUP_FAILED, f"cannot poll it: {type(err).__name__}: {err}"
            ) from err
        loaded.attached = True

    async def _teardown(self, domain: str, loaded: _Loaded) -> None:
        """Undo a setup in reverse: poller, stop(), owned tasks, cleanups (last first), registrations."""
        if loaded.attached:
            self._hub.poller.detach(domain)
        if loaded.integration is not None and loaded.started:
            await self._bounded(domain, "stop()", loaded.integration.stop())
        context = loaded.context
        # The loader is the other half of IntegrationContext: it owns undoing what the context recorded.
        for name in reversed(context._task_names):
            await self._hub.supervisor.stop_task(name)
        context._task_names.clear()
        for callback in reversed(context._cleanups):
            try:
                result = callback()
            except Exception:
                _LOGGER.exception("integration %s: cleanup %r failed", domain, callback)
                continue
            if inspect.isawaitable(result):
                await self._bounded(domain, f"cleanup {callback!r}", result)
        context._cleanups.clear()
        self._hub.points.remove_domain(domain)

    async def _bounded(self, domain: str, what: str, awaitable: Any) -> None:
        """Await a teardown step; a failure or overrun is logged and the teardown goes on."""
        try:
            async with asyncio.timeout(self._stop_timeout):
                await awaitable
        except TimeoutError:
            _LOGGER.warning("integration %s: %s did not finish within %g s", domain, what, self._stop_timeout)
        except Exception:
            _LOGGER.exception("integration %s: %s failed", domain, what)

    def _record_failure(
        self,
        domain: str,
        version: str | None,
        state: IntegrationState,
        reason: str,
        trace: BaseException | None,
    ) -> None:
        self._statuses[domain] = IntegrationStatus(domain, state, version, reason)
        exc_info = (type(trace), trace, trace.__traceback__) if trace is not None else None
        _LOGGER.error("integration %s not loaded (%s): %s", domain, state, reason, exc_info=exc_info)
