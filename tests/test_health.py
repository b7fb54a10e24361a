"""GET /api/health, and the registry behind it."""

import asyncio
import dataclasses

import aiohttp
import pytest

from hub.health import ComponentHealth, HealthRegistry, HealthStatus
from hub.supervisor import Backoff
from tests.conftest import RunningHub, make_config

CRASH_BACKOFF = Backoff(initial=0.01, maximum=0.02, stable=60, degraded_after=3)


async def get_health(running: RunningHub) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{running.http_port}/api/health") as response,
    ):
        return response.status, await response.json()


async def mqtt_round_trip(running: RunningHub, topic: str) -> None:
    async with running.client("websockets", identifier=f"probe-{topic.replace('/', '-')}") as client:
        await client.subscribe(topic, qos=1)
        await client.publish(topic, b"still here", qos=1)
        async with asyncio.timeout(5):
            async for message in client.messages:
                assert message.payload == b"still here"
                return


async def test_health_is_ok_with_broker_and_tasks(start_hub):
    running = await start_hub()
    status, body = await get_health(running)
    assert status == 200
    assert body["status"] == "ok"
    assert body["identity"] == "iot/global/acme/hq/hub-1/"
    assert set(body["components"]) >= {"broker", "tasks"}
    broker = body["components"]["broker"]
    assert broker["status"] == "ok"
    assert broker["tcp_listener"] == f"127.0.0.1:{running.tcp_port}"
    for counter in (
        "qos0_dropped",
        "backlog_disconnects",
        "oversized_packets",
        "connect_timeouts",
        "messages_in",
    ):
        assert broker[counter] == 0
    tasks = body["components"]["tasks"]
    assert tasks["status"] == "ok"
    assert tasks["tasks"]["heartbeat"]["running"] is True
    assert tasks["failing"] == []


async def test_broker_counts_clients(start_hub):
    running = await start_hub()
    async with running.client("tcp", identifier="counted"):
        _, body = await get_health(running)
    assert body["components"]["broker"]["clients"] == 1
    assert body["components"]["broker"]["connections_total"] == 1


async def test_a_task_that_keeps_crashing_makes_the_hub_degraded(start_hub):
    running = await start_hub(backoff=CRASH_BACKOFF)

    async def crasher() -> None:
        raise RuntimeError("sensor bus on fire")

    running.hub.supervisor.spawn("crasher", crasher)
    async with asyncio.timeout(5):
        while (health := await get_health(running))[0] != 503:  # noqa: ASYNC110 - polling the endpoint is the test
            await asyncio.sleep(0.02)
    _, body = health
    assert body["status"] == "degraded"
    tasks = body["components"]["tasks"]
    assert tasks["status"] == "degraded"
    assert tasks["failing"] == ["crasher"]
    assert tasks["tasks"]["crasher"]["restarts"] >= CRASH_BACKOFF.degraded_after
    assert tasks["tasks"]["crasher"]["last_error"] == "RuntimeError: sensor bus on fire"
    assert tasks["tasks"]["heartbeat"]["restarts"] == 0
    assert body["components"]["broker"]["status"] == "ok"
    await mqtt_round_trip(running, "still/serving")  # the broker is unaffected meanwhile


async def test_a_task_below_the_crash_threshold_is_not_degraded(start_hub):
    running = await start_hub(backoff=CRASH_BACKOFF)
    calls = 0
    restarted = asyncio.Event()

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("once")
        restarted.set()
        await asyncio.Event().wait()  # then runs for good

    running.hub.supervisor.spawn("flaky", flaky)
    async with asyncio.timeout(5):
        await restarted.wait()
    status, body = await get_health(running)
    assert status == 200
    assert body["components"]["tasks"]["tasks"]["flaky"] == {
        "running": True,
        "restarts": 1,
        "last_error": "RuntimeError: once",
    }


# --- HealthRegistry ---


def test_report_is_the_worst_component():
    registry = HealthRegistry()
    registry.register("a", lambda: ComponentHealth(HealthStatus.OK))
    registry.register("b", lambda: ComponentHealth(HealthStatus.DEGRADED, {"why": "slow"}))
    report = registry.report()
    assert report.status == HealthStatus.DEGRADED
    assert not report.healthy
    assert report.as_dict() == {
        "status": "degraded",
        "components": {"a": {"status": "ok"}, "b": {"status": "degraded", "why": "slow"}},
    }


def test_empty_registry_is_ok():
    assert HealthRegistry().report().healthy


def test_a_check_that_raises_makes_its_component_down(caplog):
    registry = HealthRegistry()

    def broken() -> ComponentHealth:
        raise ValueError("no")

    registry.register("ok", lambda: ComponentHealth(HealthStatus.OK))
    registry.register("broken", broken)
    report = registry.report()
    assert report.status == HealthStatus.DOWN
    assert report.components["broken"].status == HealthStatus.DOWN
    assert report.components["ok"].status == HealthStatus.OK
    assert "health check broken failed" in caplog.text


def test_register_twice_is_refused_and_unregister_removes():
    registry = HealthRegistry()
    remove = registry.register("a", lambda: ComponentHealth(HealthStatus.DOWN))
    with pytest.raises(ValueError, match="already registered"):
        registry.register("a", lambda: ComponentHealth(HealthStatus.OK))
    remove()
    assert registry.report().components == {}
    registry.register("a", lambda: ComponentHealth(HealthStatus.OK))


async def test_health__a_missing_integration_degrades_health_but_the_hub_serves(start_hub, tmp_path):
    config = dataclasses.replace(make_config(tmp_path), integrations={"no_such_protocol": {}})
    running = await start_hub(config)

    status, body = await get_health(running)

    assert status == 503
    integrations = body["components"]["integrations"]
    assert integrations["status"] == "degraded"
    entry = integrations["integrations"]["no_such_protocol"]
    assert entry["state"] == "not_found"
    assert "no integration named 'no_such_protocol' is installed" in entry["error"]
    assert body["components"]["polling"]["devices"] == 0
    await mqtt_round_trip(running, "site/after/missing")
