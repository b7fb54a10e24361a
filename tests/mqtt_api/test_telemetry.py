"""Telemetry over a real broker connection: bulk batches split by size, retained per-point topics."""

import dataclasses
import time
from pathlib import Path

import pytest

from hub.config import MqttApiConfig
from hub.points import Point, Sample
from tests.conftest import RunningHub, StartHub, fakes_config
from tests.mqtt_api.helpers import PREFIX, Inbox, inbox, simulator_config

BULK = PREFIX + "bulk"
MARKER = PREFIX + "test/marker"


@pytest.fixture
async def quiet_hub(start_hub: StartHub, fake_plugins: None, tmp_path: Path) -> RunningHub:
    """The fake integrations with polling paused, so only the samples a test makes are published."""
    config = dataclasses.replace(
        fakes_config(tmp_path), mqtt_api=MqttApiConfig(batch_interval=3600, max_batch_size=3)
    )
    running = await start_hub(config)
    running.hub.poller.pause()
    running.hub.mqtt_api.telemetry.flush()  # whatever was polled before the pause
    return running


def update(running: RunningHub, point_id: str, value: float) -> None:
    assert running.hub.points.update(point_id, Sample(value, time.time()))


async def settle(box: Inbox) -> None:
    """Wait until everything the hub sent before now has arrived (a marker sent after it arrives)."""
    await box.client.subscribe(MARKER, qos=1)
    await box.client.publish(MARKER, b"marker", qos=1)
    await box.next(lambda m: m.topic == MARKER)


async def test_bulk__one_batch_split_into_messages_of_max_batch_size(quiet_hub: RunningHub):
    point_ids = [p.id for p in quiet_hub.hub.points.points()]
    assert len(point_ids) == 12  # alpha: 2 devices, beta: 1, four points each
    async with inbox(quiet_hub, BULK) as box:
        for n, point_id in enumerate(point_ids):
            update(quiet_hub, point_id, 100 + n)
        update(quiet_hub, point_ids[0], 99)  # a second change in the batch: only the latest goes
        assert quiet_hub.hub.mqtt_api.telemetry.flush() == 4
        messages = [await box.next(lambda m: m.topic == BULK) for _ in range(4)]
        await settle(box)
        assert not [m for m in box.unclaimed if m.topic == BULK]

    bodies = [m.json() for m in messages]
    assert {m.qos for m in messages} == {0}
    assert not any(m.retain for m in messages)
    assert len({b["batch_id"] for b in bodies}) == 1
    assert [(b["part"], b["parts"]) for b in bodies] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert all(len(b["points"]) <= 3 for b in bodies)
    rows = {row["point_id"]: row for b in bodies for row in b["points"]}
    assert sorted(rows) == sorted(point_ids)
    assert rows[point_ids[0]]["value"] == 99
    assert rows[point_ids[1]]["value"] == 101
    assert rows[point_ids[1]]["quality"] == "good"
    assert rows[point_ids[1]]["device_id"] == "alpha-1"
    assert quiet_hub.hub.mqtt_api.telemetry.flush() == 0  # nothing changed since


async def test_bulk__sent_every_batch_interval_from_polled_samples(start_hub: StartHub, tmp_path: Path):
    running = await start_hub(simulator_config(tmp_path, batch_interval=0.2))
    async with inbox(running, BULK) as box:
        message = await box.next(lambda m: m.topic == BULK and bool(m.json()["points"]))
    row = message.json()["points"][0]
    assert set(row) == {"point_id", "device_id", "value", "quality", "timestamp"}


async def test_point_topic__retained_on_change_with_deadband(quiet_hub: RunningHub):
    hub = quiet_hub.hub
    hub.points.add_point(Point("alpha-1.flow", "alpha-1", "flow", cov_increment=1.0))
    topic = PREFIX + "alpha-1/alpha-1.flow"
    async with inbox(quiet_hub, topic) as box:
        for value in (20.0, 20.5, 22.0):  # 20.5 is within the deadband
            hub.points.update("alpha-1.flow", Sample(value, time.time()))
        await settle(box)
    values = [m.json()["value"] for m in box.seen if m.topic == topic]
    assert values == [20.0, 22.0]
    assert {m.qos for m in box.seen if m.topic == topic} == {1}

    async with inbox(quiet_hub, topic) as late:
        retained = await late.next(lambda m: m.topic == topic)
    assert retained.retain
    assert retained.json() == {**retained.json(), "value": 22.0, "quality": "good"}


async def test_point_topic__a_repeated_value_is_not_published_again(quiet_hub: RunningHub):
    topic = PREFIX + "alpha-1/alpha-1.p0"
    async with inbox(quiet_hub, topic) as box:
        for value in (5.0, 5.0, 5.0, 6.0, 6.0):  # polled five times, changed twice
            update(quiet_hub, "alpha-1.p0", value)
        await settle(box)
    values = [m.json()["value"] for m in box.seen if m.topic == topic and not m.retain]
    assert values[-2:] == [5.0, 6.0]
    assert values.count(5.0) == 1


async def test_point_topic__cleared_when_its_points_go_and_kept_when_they_come_back(quiet_hub: RunningHub):
    hub = quiet_hub.hub
    update(quiet_hub, "beta-1.p0", 1.0)
    update(quiet_hub, "alpha-1.p0", 2.0)
    await hub.restart_services()  # every point goes and comes back: nothing is cleared
    hub.mqtt_api.telemetry.flush()
    assert hub.mqtt_api.telemetry.counters["cleared_topics"] == 0
    await hub.integrations.unload("beta")
    hub.mqtt_api.telemetry.flush()

    async with inbox(quiet_hub, PREFIX + "beta-1/#", PREFIX + "alpha-1/#") as late:
        alpha = await late.next(lambda m: m.topic == PREFIX + "alpha-1/alpha-1.p0")
        await settle(late)
    assert alpha.retain
    assert alpha.json()["value"] == 2.0
    assert not [m for m in late.seen if "beta-1" in m.topic]
    assert hub.mqtt_api.telemetry.counters["cleared_topics"] == 1


async def test_point_topic__deleted_while_the_hub_was_down_is_cleared_at_the_next_start(
    start_hub: StartHub, fake_plugins: None, tmp_path: Path
):
    first = await start_hub(
        dataclasses.replace(fakes_config(tmp_path), mqtt_api=MqttApiConfig(batch_interval=3600))
    )
    first.hub.poller.pause()
    update(first, "beta-1.p0", 1.0)
    update(first, "alpha-1.p0", 2.0)
    first.hub.mqtt_api.telemetry.flush()
    await first.server.close()

    alpha_only = dataclasses.replace(
        fakes_config(tmp_path),
        integrations={"alpha": {"devices": 2}},
        mqtt_api=MqttApiConfig(batch_interval=3600),
    )
    second = await start_hub(alpha_only)  # beta was deleted from the configuration meanwhile
    second.hub.poller.pause()
    async with inbox(second, PREFIX + "beta-1/#", PREFIX + "alpha-1/#") as box:
        second.hub.mqtt_api.telemetry.flush()
        cleared = await box.next(lambda m: m.topic == PREFIX + "beta-1/beta-1.p0")
        await settle(box)
    assert cleared.payload == b""
    assert [m.topic for m in box.seen if m.topic != MARKER] == [PREFIX + "beta-1/beta-1.p0"]
