"""Health of the hub's components, as served by /api/health and the status topics."""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

_LOGGER = logging.getLogger(__name__)


class HealthStatus(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"


@dataclass(frozen=True)
class ComponentHealth:
    """One component's state and the figures that explain it."""

    status: HealthStatus
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    """Every component's health and the overall verdict (the worst of them)."""

    status: HealthStatus
    components: Mapping[str, ComponentHealth]

    @property
    def healthy(self) -> bool:
        return self.status == HealthStatus.OK

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "status": str(self.status),
            "components": {
                name: {"status": str(health.status), **health.detail}
                for name, health in self.components.items()
            },
        }


HealthCheck = Callable[[], ComponentHealth]

_SEVERITY = {HealthStatus.OK: 0, HealthStatus.DEGRADED: 1, HealthStatus.DOWN: 2}


class HealthRegistry:
    """Components register a check; a report asks each of them."""

    def __init__(self) -> None:
        self._checks: dict[str, HealthCheck] = {}

    def register(self, name: str, check: HealthCheck) -> Callable[[], None]:
        """Add a component's check; returns a function that removes it."""
        if name in self._checks:
            raise ValueError(f"health check {name!r} is already registered")
        self._checks[name] = check
        return lambda: self._checks.pop(name, None)  # type: ignore[return-value]

    def report(self) -> HealthReport:
        """Ask every component; a check that raises makes its component 'down'."""
        components: dict[str, ComponentHealth] = {}
        for name, check in self._checks.items():
            try:
                components[name] = check()
            except Exception as err:
                _LOGGER.exception("health check %s failed", name)
                components[name] = ComponentHealth(HealthStatus.DOWN, {"error": repr(err)})
        worst = max(
            (c.status for c in components.values()), key=_SEVERITY.__getitem__, default=HealthStatus.OK
        )
        return HealthReport(worst, components)
