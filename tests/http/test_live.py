"""The device page's SSE feed: coalescing per point, freshness flips, and the stream over a real socket."""

import asyncio

from hub.bus import Bus
from hub.commands import WriteRequest
from hub.http.live import PointFeed, event_name
from hub.points import Device, Point, PointRegistry, PointUpdate, Sample
from tests.conftest import WAIT_S, StartHub
from tests.ui_site import add_users, logged_in, ui_config


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def registry(clock: Clock) -> PointRegistry:
    points = PointRegistry(Bus(), clock=clock, stale_factor=3.0)
    points.add_device(
        Device("d", "D", "test", poll_interval=1.0), [Point("d.a", "d", "a"), Point("d.b", "d", "b")]
    )
    return points


async def test_feed__many_updates_of_one_point_are_sent_once_with_the_latest_value():
    clock = Clock()
    points = registry(clock)
    feed = PointFeed(points, ["d.a"], clock)
    [first] = await feed.next_batch(WAIT_S)  # a new feed starts with every row once
    assert (first.point.id, first.sample) == ("d.a", None)
    points.bus.subscribe(PointUpdate, feed.on_update)
    for value in (1.0, 2.0, 3.0):
        points.update("d.a", Sample(value, clock.now))
    points.update("d.b", Sample(9.0, clock.now))  # not a point of this feed
    [row] = await feed.next_batch(WAIT_S)
    assert (row.point.id, row.sample.value, feed.coalesced) == ("d.a", 3.0, 2)  # type: ignore[union-attr]
    assert await feed.next_batch(0.01) == []  # nothing pending any more


async def test_feed__a_point_going_stale_is_sent_without_a_new_value():
    clock = Clock()
    points = registry(clock)
    points.update("d.a", Sample(1.0, clock.now))
    feed = PointFeed(points, ["d.a"], clock)
    await feed.next_batch(WAIT_S)  # the first batch: every row
    clock.now += 1
    feed.check_freshness()
    assert await feed.next_batch(0.01) == []  # still fresh: nothing to send
    clock.now += 10  # more than stale_factor x the poll interval
    feed.check_freshness()
    [row] = await feed.next_batch(WAIT_S)
    assert (row.point.id, row.stale, row.freshness) == ("d.a", True, "stale")


async def test_feed__points_removed_with_their_integration_are_left_out():
    clock = Clock()
    points = registry(clock)
    points.update("d.a", Sample(1.0, clock.now))
    feed = PointFeed(points, ["d.a"], clock)
    await feed.next_batch(WAIT_S)  # the first batch: every row
    points.remove_domain("test")
    feed.check_freshness()  # its sample went with it: it looks stale now
    assert await feed.next_batch(WAIT_S) == []


async def test_feed__closing_ends_a_waiting_batch():
    feed = PointFeed(registry(Clock()), ["d.a"], Clock())
    await feed.next_batch(WAIT_S)  # the first batch: every row
    waiting = asyncio.create_task(feed.next_batch(WAIT_S))
    feed.close()
    assert await waiting == []
    assert feed.closed


async def test_stream__a_device_change_arrives_as_that_points_row(start_hub: StartHub, tmp_path):
    running = await start_hub(ui_config(tmp_path))
    await add_users(running.hub)
    async with await logged_in(running, "vera") as http, http.get("/live/devices/vav-1") as stream:
        assert stream.status == 200
        assert stream.headers["Content-Type"] == "text/event-stream"
        await running.hub.commands.write(WriteRequest("vav-1.zone_setpoint", 24.5, priority=8))
        wanted = f"event: {event_name('vav-1.zone_setpoint')}"
        data = ""
        async with asyncio.timeout(WAIT_S):
            while "24.50" not in data:  # the first row sent is the value before the write
                line = (await stream.content.readline()).decode()
                if line.strip() != wanted:
                    continue
                data = ""
                while (line := (await stream.content.readline()).decode()) != "\n":
                    data += line
        assert "<td" in data  # the row's cells, for htmx to swap in


async def test_stream__an_unknown_device_is_404(start_hub: StartHub, tmp_path):
    running = await start_hub(ui_config(tmp_path))
    await add_users(running.hub)
    async with await logged_in(running, "vera") as http, http.get("/live/devices/nope") as answer:
        assert answer.status == 404
