"""COV and polling mixed per point, under the real poller, against simulated devices in other processes."""

import asyncio
from collections import Counter

from hub.points import PointAdded
from hub.polling import Poller
from tests.integrations.bacnet.conftest import WAIT_S
from tests.integrations.bacnet.test_cov import next_push

VALUES = ("--analog-inputs", "0", "--binary-values", "0", "--no-drift")


async def test_cov_polling__pushed_points_are_polled_slowly_the_others_and_refused_ones_normally(
    make_integration, start_device
):
    pushing = await start_device(1701, *VALUES, "--analog-values", "2")
    refusing = await start_device(1702, *VALUES, "--analog-values", "1", "--no-cov")
    config = {
        "poll_interval": 0.2,
        "cov": "unconfirmed",
        "cov_poll_interval": 300,
        "devices": [
            {"instance": 1701, "address": pushing.address, "objects": {"analogValue:2": {"cov": False}}},
            {"instance": 1702, "address": refusing.address},
        ],
    }
    built = await make_integration(config)
    await built.device_added("1701")
    await built.device_added("1702")
    registry = built.registry
    intervals = {p.id: p.poll_interval for p in registry.points()}
    assert intervals == {"1701.analogValue.1": 300, "1701.analogValue.2": None, "1702.analogValue.1": 300}

    reads: Counter[str] = Counter()
    read_happened = asyncio.Event()
    real_read = built.integration.read

    async def counting_read(points):  # counts what the poller reads, then reads for real
        reads.update(p.id for p in points)
        read_happened.set()
        return await real_read(points)

    built.integration.read = counting_read
    added: asyncio.Queue[PointAdded] = asyncio.Queue()
    registry.bus.subscribe(PointAdded, added.put_nowait)
    poller = Poller(registry, built.ctx._supervisor, min_read_timeout=1.0, max_start_jitter=0)
    poller.attach("bacnet", built.integration)

    async with asyncio.timeout(WAIT_S):  # the refused subscription: back to the device's interval
        while (event := await added.get()).point.id != "1702.analogValue.1":
            pass
    assert event.point.poll_interval is None
    assert built.integration.cov.refused == {"1702.analogValue.1": "reject: unrecognized-service"}

    async def reads_of(point_id: str, more: int) -> None:
        target = reads[point_id] + more
        async with asyncio.timeout(WAIT_S):
            while reads[point_id] < target:
                read_happened.clear()
                await read_happened.wait()

    await reads_of("1702.analogValue.1", 3)
    await reads_of("1701.analogValue.2", 3)  # the first cycle subscribed: later ones come after it
    assert reads["1701.analogValue.1"] == 1  # the first cycle; the next is due in 300 s
    await built.integration.write(registry.point("1701.analogValue.1"), 33.0, 8)
    await next_push(built, "1701.analogValue.1", 33.0)
    assert registry.latest("1701.analogValue.1").value == 33.0
    detail = built.integration.health().detail
    assert (detail["cov_subscriptions"], detail["cov_refused"]) == (1, 1)
    poller.detach("bacnet")
