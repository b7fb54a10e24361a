"""Prometheus metrics: the hub's counters and gauges, read from its components at each scrape.

Components already keep their figures for /api/health; a declarative table maps those figures to
metric names that follow Prometheus conventions (`bms_hub_` prefix, base units, `_total` for
counters), so nothing is counted twice and a scrape costs one health report. Writes are counted
here from the AuditEvents the command service publishes; process figures come from
prometheus_client's standard process collector.
"""

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.bus import Bus
from hub.commands import AuditEvent, WriteOutcome
from hub.health import HealthReport, HealthStatus

PREFIX = "bms_hub_"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_STATUS_CODES = {HealthStatus.OK: 0, HealthStatus.DEGRADED: 1, HealthStatus.DOWN: 2}


class Kind(StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"


@dataclass(frozen=True)
class Figure:
    """One figure of a component's health detail, published as (part of) a metric family."""

    component: str
    path: tuple[str, ...]  # keys into the component's health detail
    labels: Mapping[str, str] = field(default_factory=dict)
    scale: float = 1.0  # e.g. 0.001 for a figure kept in milliseconds


@dataclass(frozen=True)
class Family:
    """A metric family and the figures that feed it."""

    name: str  # without the prefix (and without _total for counters)
    kind: Kind
    help: str
    figures: tuple[Figure, ...]
    label_names: tuple[str, ...] = ()


def _one(component: str, *path: str, scale: float = 1.0) -> tuple[Figure, ...]:
    return (Figure(component, path, scale=scale),)


def _quantiles(component: str, *path: str, keys: Mapping[str, str], scale: float) -> tuple[Figure, ...]:
    return tuple(Figure(component, (*path, key), {"quantile": q}, scale) for q, key in keys.items())


_DEVICE_STATUSES = ("unknown", "online", "offline", "error")
_FLOW_STATES = ("running", "stopped", "errored", "invalid")

FAMILIES: tuple[Family, ...] = (
    Family("poll_cycles", Kind.COUNTER, "Device poll cycles completed.", _one("polling", "cycles")),
    Family("poll_reads", Kind.COUNTER, "Batched device reads sent.", _one("polling", "reads")),
    Family("poll_read_errors", Kind.COUNTER, "Device reads that failed.", _one("polling", "read_errors")),
    Family(
        "poll_missed_cycles",
        Kind.COUNTER,
        "Poll cycles skipped because the previous one ran late.",
        _one("polling", "missed_cycles"),
    ),
    Family("points_read", Kind.COUNTER, "Point values read from devices.", _one("polling", "points_read")),
    Family(
        "poll_lateness_seconds",
        Kind.GAUGE,
        "How late poll cycles started over the recent window.",
        _quantiles("polling", "lateness_ms", keys={"0.5": "p50", "0.99": "p99", "1": "max"}, scale=0.001),
        ("quantile",),
    ),
    Family(
        "devices",
        Kind.GAUGE,
        "Polled devices by status.",
        tuple(Figure("polling", (f"devices_{s}",), {"status": s}) for s in _DEVICE_STATUSES),
        ("status",),
    ),
    Family(
        "samples_written", Kind.COUNTER, "Samples committed to the store.", _one("store", "samples_written")
    ),
    Family(
        "store_queue_depth", Kind.GAUGE, "Samples waiting for the store's writer.", _one("store", "queue")
    ),
    Family(
        "store_dropped_samples",
        Kind.COUNTER,
        "Samples dropped because the store's queue was full.",
        _one("store", "dropped"),
    ),
    Family(
        "store_commit_seconds",
        Kind.GAUGE,
        "Duration of the store's last commit.",
        _one("store", "commit_ms", scale=0.001),
    ),
    Family("store_database_bytes", Kind.GAUGE, "Size of the database files.", _one("store", "db_bytes")),
    Family("store_rows_purged", Kind.COUNTER, "Rows removed by retention.", _one("store", "rows_purged")),
    Family(
        "mqtt_clients", Kind.GAUGE, "Clients connected to the embedded broker.", _one("broker", "clients")
    ),
    Family(
        "mqtt_connections",
        Kind.COUNTER,
        "Connections accepted by the broker.",
        _one("broker", "connections_total"),
    ),
    Family(
        "mqtt_auth_failures",
        Kind.COUNTER,
        "Connections refused for bad credentials.",
        _one("broker", "auth_failures"),
    ),
    Family(
        "mqtt_messages_received",
        Kind.COUNTER,
        "PUBLISH packets received from clients.",
        _one("broker", "messages_in"),
    ),
    Family(
        "mqtt_messages_sent", Kind.COUNTER, "PUBLISH packets sent to clients.", _one("broker", "messages_out")
    ),
    Family(
        "mqtt_messages_dropped",
        Kind.COUNTER,
        "QoS 0 messages dropped for slow clients.",
        _one("broker", "qos0_dropped"),
    ),
    Family(
        "mqtt_publish_refused",
        Kind.COUNTER,
        "Publishes refused by the ACL.",
        _one("broker", "publish_refused"),
    ),
    Family(
        "bridge_spool_depth",
        Kind.GAUGE,
        "Messages spooled for the upstream broker.",
        _one("bridge", "spool_depth"),
    ),
    Family(
        "bridge_spool_dropped",
        Kind.COUNTER,
        "Spooled messages dropped (spool full).",
        _one("bridge", "spool_dropped"),
    ),
    Family(
        "flows",
        Kind.GAUGE,
        "Flows by state (invalid: set aside with validation errors).",
        tuple(Figure("flows", (state,), {"state": state}) for state in _FLOW_STATES),
        ("state",),
    ),
    Family(
        "flow_runs",
        Kind.COUNTER,
        "Flow runs (a trigger and everything it propagated).",
        _one("flows", "runs"),
    ),
    Family(
        "flow_run_errors",
        Kind.COUNTER,
        "Flow runs that raised (the flow is then errored).",
        _one("flows", "run_errors"),
    ),
    Family("flow_run_seconds", Kind.COUNTER, "Time spent in flow runs.", _one("flows", "run_seconds")),
    Family("alarms_active", Kind.GAUGE, "Active alarms.", _one("alarms", "active")),
    Family(
        "alarms_unacknowledged",
        Kind.GAUGE,
        "Alarms not acknowledged yet (active or cleared).",
        _one("alarms", "unacknowledged"),
    ),
    Family(
        "alarms_stale_suppressed",
        Kind.GAUGE,
        "Stale points whose alarm is suppressed because their device is offline.",
        _one("alarms", "stale_suppressed"),
    ),
    Family("bms_connections", Kind.GAUGE, "External BMS connections configured.", _one("bms", "connections")),
    Family(
        "bms_connections_connected",
        Kind.GAUGE,
        "External BMS connections with a live MQTT session.",
        _one("bms", "connected"),
    ),
    Family(
        "event_loop_lag_seconds",
        Kind.GAUGE,
        "How late the event loop runs callbacks, over the last minute.",
        _quantiles(
            "event_loop", keys={"0.5": "lag_p50_ms", "0.99": "lag_p99_ms", "1": "lag_max_ms"}, scale=0.001
        ),
        ("quantile",),
    ),
    Family(
        "event_loop_stalls",
        Kind.COUNTER,
        "Times the event loop was blocked past the watchdog threshold.",
        _one("event_loop", "stalls"),
    ),
    Family(
        "heap_bytes",
        Kind.GAUGE,
        "The C heap after its last trim: bytes in use, and free bytes the allocator keeps.",
        (
            Figure("heap", ("in_use_bytes",), {"state": "in_use"}),
            Figure("heap", ("free_bytes",), {"state": "free"}),
        ),
        ("state",),
    ),
    Family(
        "heap_released_bytes",
        Kind.COUNTER,
        "Bytes the heap trims gave back to the operating system.",
        _one("heap", "released_bytes"),
    ),
    Family(
        "python_allocated_blocks",
        Kind.GAUGE,
        "Blocks Python's small-object allocator has handed out: grows when Python objects are kept.",
        _one("heap", "python_blocks"),
    ),
)


def _lookup(detail: Mapping[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = detail
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


class HubCollector(Collector):
    """Turns one health report per scrape into metric families."""

    def __init__(self, report: Callable[[], HealthReport], writes: Counter[WriteOutcome]) -> None:
        self._report = report
        self._writes = writes

    def collect(self) -> Iterator[Metric]:
        report = self._report()
        details = {name: health.detail for name, health in report.components.items()}
        status = GaugeMetricFamily(
            f"{PREFIX}component_status",
            "Health of each component: 0 ok, 1 degraded, 2 down.",
            labels=["component"],
        )
        for name, health in report.components.items():
            status.add_metric([name], _STATUS_CODES[health.status])
        yield status
        writes = CounterMetricFamily(f"{PREFIX}writes", "Write requests by outcome.", labels=["outcome"])
        for outcome in WriteOutcome:
            writes.add_metric([outcome.value], self._writes[outcome])
        yield writes
        for family in FAMILIES:
            metric = _family(family, details)
            if metric is not None:
                yield metric


def _family(family: Family, details: Mapping[str, Mapping[str, Any]]) -> Metric | None:
    """The family with every figure its components report now; None when none does."""
    make = CounterMetricFamily if family.kind is Kind.COUNTER else GaugeMetricFamily
    metric = make(f"{PREFIX}{family.name}", family.help, labels=list(family.label_names))
    found = False
    for figure in family.figures:
        value = _lookup(details.get(figure.component, {}), figure.path)
        if value is not None:
            metric.add_metric([figure.labels[name] for name in family.label_names], value * figure.scale)
            found = True
    return metric if found else None


class Metrics:
    """The hub's metrics registry: its own collector and the process collector."""

    def __init__(self, report: Callable[[], HealthReport], bus: Bus) -> None:
        self._writes: Counter[WriteOutcome] = Counter()
        bus.subscribe(AuditEvent, lambda event: self._writes.update((event.outcome,)))
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(HubCollector(report, self._writes))
        ProcessCollector(
            registry=self.registry
        )  # process_resident_memory_bytes, process_cpu_seconds_total...

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric now."""
        return generate_latest(self.registry)
