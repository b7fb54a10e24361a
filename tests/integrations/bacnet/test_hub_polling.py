"""Under the hub's real poller: a device that dies mid-poll goes offline alone and comes back."""

import asyncio

from hub.points import DeviceStatus, DeviceStatusChanged, PointUpdate
from hub.polling import Poller
from tests.integrations.bacnet.conftest import WAIT_S

SMALL = ("--analog-inputs", "2", "--analog-values", "0", "--binary-values", "0")


async def test_poller__a_dead_device_goes_offline_alone_and_recovers(make_integration, start_device):
    alive, dying = await asyncio.gather(*(start_device(n, *SMALL) for n in (1501, 1502)))
    built = await make_integration({"poll_interval": 0.5}, [alive, dying])
    await built.device_added("1501")
    await built.device_added("1502")
    statuses: asyncio.Queue[tuple[str, DeviceStatus]] = asyncio.Queue()
    updates: asyncio.Queue[str] = asyncio.Queue()
    bus = built.registry.bus
    bus.subscribe(DeviceStatusChanged, lambda e: statuses.put_nowait((e.device.id, e.state.status)))
    bus.subscribe(PointUpdate, lambda e: updates.put_nowait(e.point.device_id))
    poller = Poller(
        built.registry, built.ctx._supervisor, max_backoff=1.0, min_read_timeout=1.0, max_start_jitter=0
    )
    poller.attach("bacnet", built.integration)

    async def status_of(device_id: str, status: DeviceStatus) -> None:
        while await statuses.get() != (device_id, status):
            pass

    async def update_from(device_id: str) -> None:
        while await updates.get() != device_id:
            pass

    async with asyncio.timeout(WAIT_S):
        await status_of("1502", DeviceStatus.ONLINE)
        await dying.kill()
        await status_of("1502", DeviceStatus.OFFLINE)
    assert built.registry.latest("1502.analogInput.1").reason == "no answer within 1 s"
    assert built.registry.device_state("1501").status == DeviceStatus.ONLINE
    while not updates.empty():
        updates.get_nowait()
    async with asyncio.timeout(WAIT_S):
        await update_from("1501")  # the other device is still polled
    await start_device(1502, *SMALL, port=dying.port)
    async with asyncio.timeout(WAIT_S):
        await status_of("1502", DeviceStatus.ONLINE)
    assert built.registry.latest("1502.analogInput.1").quality == "good"
    poller.detach("bacnet")
