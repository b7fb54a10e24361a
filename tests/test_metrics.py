"""GET /metrics: Prometheus text that a Prometheus parser reads, with the hub's figures in it."""

import asyncio
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.metrics import FAMILIES, PREFIX, Kind
from tests.conftest import RunningHub
from tests.http.helpers import call


async def _scrape(running: RunningHub) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample by metric name and labels, parsed by prometheus_client's own parser."""
    async with running.http() as session, session.get("/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


async def test_metrics_name_every_component_and_count_writes(fakes_hub: RunningHub) -> None:
    body = {"point_id": "alpha-1.setpoint", "value": 22.5}
    assert (await call(fakes_hub, "POST", "/api/points/write", body))[0] == 200
    assert (await call(fakes_hub, "POST", "/api/points/write", {**body, "value": 99}))[0] == 422

    metrics = await _scrape(fakes_hub)

    assert metrics["bms_hub_writes_total"][(("outcome", "written"),)] == 1
    assert metrics["bms_hub_writes_total"][(("outcome", "refused"),)] == 1
    assert metrics["bms_hub_mqtt_clients"][()] >= 0
    assert metrics["bms_hub_component_status"][(("component", "store"),)] == 0
    quantiles = {labels[0][1] for labels in metrics["bms_hub_event_loop_lag_seconds"]}
    assert quantiles == {"0.5", "0.99", "1"}
    assert sum(metrics["bms_hub_devices"].values()) == 3  # alpha's two devices and beta's one
    assert metrics["process_resident_memory_bytes"][()] > 0
    assert "bms_hub_poll_cycles_total" in metrics
    assert "bms_hub_samples_written_total" in metrics


async def test_heap_figures_after_a_trim(fakes_hub: RunningHub) -> None:
    if not fakes_hub.hub.heap.supported:
        pytest.skip("no malloc_trim outside glibc")
    figures = await asyncio.to_thread(fakes_hub.hub.heap.trim)
    metrics = await _scrape(fakes_hub)
    assert metrics["bms_hub_heap_bytes"][(("state", "in_use"),)] == figures.in_use_bytes
    assert metrics["bms_hub_heap_bytes"][(("state", "free"),)] == figures.free_bytes
    assert metrics["bms_hub_heap_released_bytes_total"][()] >= figures.released_bytes
    assert metrics["bms_hub_python_allocated_blocks"][()] > 10_000  # the hub's own objects


async def test_a_component_that_is_not_running_has_no_metrics(fakes_hub: RunningHub) -> None:
    metrics = await _scrape(fakes_hub)
    assert "bms_hub_bridge_spool_depth" not in metrics  # no bridge configured


async def test_metrics_need_credentials(fakes_hub: RunningHub) -> None:
    async with fakes_hub.http(user=None) as session, session.get("/metrics") as response:
        assert response.status == 401


async def test_flow_and_alarm_figures(fakes_hub: RunningHub) -> None:
    flow = (
        "flow: {id: hold}\nnodes:\n  - {id: sp, type: constant, value: 21}\n"
        "  - {id: out, type: point_write, point: alpha-1.setpoint}\n"
        "edges:\n  - {from: sp.value, to: out.value}\n"
    )
    status, answer = await call(fakes_hub, "POST", "/api/config/deploy", {"files": {"hold.yaml": flow}})
    assert status == 200, answer

    metrics = await _scrape(fakes_hub)

    assert metrics["bms_hub_flows"][(("state", "running"),)] == 1
    assert metrics["bms_hub_flows"][(("state", "invalid"),)] == 0
    assert metrics["bms_hub_flow_runs_total"][()] >= 1  # the constant's first value ran the flow
    assert metrics["bms_hub_flow_run_errors_total"][()] == 0
    assert metrics["bms_hub_alarms_active"][()] >= 0


def test_every_metric_is_documented() -> None:
    documented = (Path(__file__).parents[1] / "docs" / "metrics.md").read_text(encoding="utf-8")
    for family in FAMILIES:
        name = f"{PREFIX}{family.name}{'_total' if family.kind is Kind.COUNTER else ''}"
        assert f"`{name}`" in documented, f"{name} is missing from docs/metrics.md"
