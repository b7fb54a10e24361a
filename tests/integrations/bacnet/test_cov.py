"""COV from simulated devices: pushes reach ctx.report, subscriptions outlive their lifetime, refusals."""

import asyncio

from hub.points import Quality
from tests.integrations.bacnet.conftest import WAIT_S, Built, free_udp_port


async def next_push(built: Built, point_id: str, value: float):
    """The first push of `point_id` with `value` (earlier pushes, such as the initial value, are skipped)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            pushed_id, sample = await built.pushed.get()
            if pushed_id == point_id and sample.value == value:
                return sample


async def test_cov__a_write_is_pushed_and_the_subscription_outlives_its_lifetime(
    make_integration, start_device
):
    device = await start_device(1201, "--analog-inputs", "0", "--analog-values", "2", "--binary-values", "0")
    built = await make_integration({"cov": "unconfirmed", "cov_lifetime": 2}, [device])
    await built.device_added("1201")
    points = built.points("1201")
    await built.integration.subscribe(points)
    assert built.integration.health().detail["cov_subscriptions"] == 2
    setpoint = points[0]
    await built.integration.write(setpoint, 33.0, 8)
    sample = await next_push(built, setpoint.id, 33.0)
    assert sample.quality == Quality.GOOD
    # Time itself is the condition here: past 1.5 lifetimes the device has dropped any subscription
    # that was not renewed, so a push now proves the renewal.
    await asyncio.sleep(3.0)
    await built.integration.write(setpoint, 34.0, 8)
    await next_push(built, setpoint.id, 34.0)
    assert built.integration.health().detail["cov_subscriptions"] == 2


async def test_cov__confirmed_notifications_and_resubscribe_after_a_restart(make_integration, start_device):
    device = await start_device(1202, "--analog-inputs", "0", "--analog-values", "1", "--binary-values", "0")
    built = await make_integration({"cov": "confirmed", "cov_lifetime": 300}, [device])
    await built.device_added("1202")
    points = built.points("1202")
    await built.integration.subscribe(points)
    await built.integration.write(points[0], 40.0, 8)
    await next_push(built, points[0].id, 40.0)
    await device.kill()
    await start_device(
        1202, "--analog-inputs", "0", "--analog-values", "1", "--binary-values", "0", port=device.port
    )
    await built.integration.subscribe(points)  # what the poller does once the device answers again
    await built.integration.write(points[0], 41.0, 8)
    await next_push(built, points[0].id, 41.0)


async def test_cov__a_device_that_refuses_cov_is_polled(make_integration, start_device):
    device = await start_device(
        1203, "--analog-inputs", "1", "--analog-values", "0", "--binary-values", "0", "--no-cov"
    )
    built = await make_integration({"cov": "unconfirmed"}, [device])
    await built.device_added("1203")
    points = built.points("1203")
    await built.integration.subscribe(points)
    detail = built.integration.health().detail
    assert (detail["cov_subscriptions"], detail["cov_refused"]) == (0, 1)
    assert built.integration.cov.refused == {"1203.analogInput.1": "reject: unrecognized-service"}
    samples = await built.integration.read(points)
    assert samples["1203.analogInput.1"].quality == Quality.GOOD


async def test_cov__a_device_that_restarts_between_polls_is_resubscribed_on_its_i_am(
    make_integration, start_device
):
    args = ("--analog-inputs", "0", "--analog-values", "1", "--binary-values", "0")
    hub_port = free_udp_port()
    device = await start_device(1204, *args, "--announce", f"127.0.0.1:{hub_port}")
    built = await make_integration({"port": hub_port, "cov": "unconfirmed", "cov_lifetime": 300}, [device])
    await built.device_added("1204")
    points = built.points("1204")
    await built.integration.subscribe(points)
    await device.kill()
    renewed = asyncio.Event()
    original = built.integration.cov.renew_now

    def spy(peer):  # records the call, then does the real work
        original(peer)
        renewed.set()

    built.integration.cov.renew_now = spy
    await start_device(1204, *args, "--announce", f"127.0.0.1:{hub_port}", port=device.port)
    async with asyncio.timeout(WAIT_S):
        await renewed.wait()
    # No poll and no subscribe() since the restart: only the I-Am can have brought the subscription back.
    await built.integration.write(points[0], 42.0, 8)
    await next_push(built, points[0].id, 42.0)
