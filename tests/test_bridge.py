"""The bridge against a real Mosquitto: zero loss and kept order across an outage, the spool's bound,
commands coming down (with a topic prefix) and answers going up, and the last will on a cut link."""

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from hub.bridge import BridgeState, BridgeStateChanged
from hub.config import BridgeConfig, BridgeTransport, ConfigError, HubConfig, SpoolConfig, load_config
from hub.core import Hub
from tests.conftest import WAIT_S, StartHub, make_config
from tests.mosquitto import Mosquitto, free_port, make_certificates, password_file
from tests.mqtt_api.helpers import PREFIX
from tests.tcp_proxy import TcpProxy

SEQ = PREFIX + "test/seq"


def bridged_config(tmp_path: Path, port: int, **bridge: object) -> HubConfig:
    settings = {"publish": (PREFIX + "test/#",), **bridge}
    config = BridgeConfig(
        enabled=True,
        host="127.0.0.1",
        port=port,
        backoff_initial=0.05,
        backoff_max=0.2,
        **settings,  # type: ignore[arg-type]
    )
    return dataclasses.replace(make_config(tmp_path), bridge=config)


async def bridge_state(hub: Hub, state: BridgeState) -> None:
    """Return once the bridge is in `state`."""
    events: asyncio.Queue[BridgeStateChanged] = asyncio.Queue()
    unsubscribe = hub.bus.subscribe(BridgeStateChanged, events.put_nowait)
    try:
        async with asyncio.timeout(WAIT_S):
            while hub.bridge is None or hub.bridge.state != state:
                await events.get()
    finally:
        unsubscribe()


class Cloud:
    """A persistent-session subscriber on the upstream broker, as a cloud service would be."""

    def __init__(
        self, port: int, *filters: str, username: str | None = None, password: str | None = None
    ) -> None:
        self.port = port
        self.filters = filters or (SEQ,)
        self.credentials = {"username": username, "password": password}
        self.received: asyncio.Queue[aiomqtt.Message] = asyncio.Queue()

    @contextlib.asynccontextmanager
    async def connected(self) -> AsyncIterator[aiomqtt.Client]:
        client = aiomqtt.Client(
            "127.0.0.1",
            self.port,
            identifier="cloud",
            clean_session=False,
            timeout=WAIT_S,
            **self.credentials,
        )
        async with client:
            for topic_filter in self.filters:
                await client.subscribe(topic_filter, qos=1)
            pump = asyncio.create_task(self._pump(client))
            try:
                yield client
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                    await pump

    async def _pump(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            self.received.put_nowait(message)

    async def next_status(self, status: str) -> dict[str, object]:
        """The next status/update that says `status`."""
        async with asyncio.timeout(WAIT_S):
            while True:
                message = await self.received.get()
                body = json.loads(message.payload)  # type: ignore[arg-type]
                if body["status"] == status:
                    return body

    async def sequence_until(self, last: int) -> list[int]:
        """Sequence numbers received on SEQ until `last` arrives."""
        numbers: list[int] = []
        async with asyncio.timeout(WAIT_S):
            while not numbers or numbers[-1] != last:
                message = await self.received.get()
                if str(message.topic) == SEQ:
                    numbers.append(int(message.payload))  # type: ignore[arg-type]
        return numbers


def publish_seq(hub: Hub, first: int, last: int) -> None:
    for n in range(first, last + 1):
        hub.broker.publish(SEQ, str(n).encode(), qos=1)


def first_seen(numbers: list[int]) -> list[int]:
    """The numbers in the order each first arrived (a resend after a lost ack may repeat one)."""
    return list(dict.fromkeys(numbers))


@pytest.fixture
async def mosquitto(tmp_path: Path) -> AsyncIterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "mosquitto")
    yield broker
    await broker.stop()


async def test_outage__zero_loss_and_order_kept(start_hub: StartHub, mosquitto: Mosquitto, tmp_path: Path):
    await mosquitto.start()
    cloud = Cloud(mosquitto.port)
    async with cloud.connected():
        running = await start_hub(bridged_config(tmp_path, mosquitto.port))
        hub = running.hub
        await bridge_state(hub, BridgeState.CONNECTED)
        publish_seq(hub, 1, 50)
        before = await cloud.sequence_until(50)
        assert first_seen(before) == list(range(1, 51))
        assert hub.bridge is not None
        await hub.bridge.flush(WAIT_S)  # every acknowledgement is in: the spool is empty
        await mosquitto.stop()
    await bridge_state(hub, BridgeState.DISCONNECTED)

    publish_seq(hub, 51, 150)  # while the upstream broker is down
    await hub.bridge.spooled()
    health = hub.health.report().components["bridge"]
    assert (str(health.status), health.detail["state"], health.detail["spool_depth"]) == (
        "ok",
        "disconnected",
        100,
    )
    assert health.detail["spool_oldest_age_s"] is not None

    await mosquitto.start()
    async with cloud.connected():
        await bridge_state(hub, BridgeState.CONNECTED)
        publish_seq(hub, 151, 160)  # new messages go after the spooled ones
        after = await cloud.sequence_until(160)
    # Mosquitto may send again what the cloud client had not acknowledged when it stopped: duplicates,
    # never a gap and never out of order.
    assert first_seen(before + after) == list(range(1, 161))
    await hub.bridge.flush(WAIT_S)
    assert hub.health.report().components["bridge"].detail["spool_depth"] == 0


async def test_spool_bound__oldest_dropped_then_the_rest_replayed(start_hub: StartHub, tmp_path: Path):
    port = free_port()  # nothing listens yet
    config = bridged_config(tmp_path, port, spool=SpoolConfig(max_messages=10))
    running = await start_hub(config)
    hub = running.hub
    assert hub.bridge is not None
    publish_seq(hub, 1, 25)
    await hub.bridge.spooled()
    detail = hub.health.report().components["bridge"].detail
    assert (detail["spool_depth"], detail["spool_dropped"]) == (10, 15)
    assert str(hub.health.report().components["bridge"].status) == "degraded"  # messages were lost
    assert detail["last_error"]

    upstream = Mosquitto(tmp_path / "late", port)
    await upstream.start()
    try:
        cloud = Cloud(port)
        async with cloud.connected():  # subscribed before the bridge's next attempt sends anything
            received = await cloud.sequence_until(25)
    finally:
        await running.server.close()
        await upstream.stop()
    assert first_seen(received) == list(range(16, 26))


async def test_commands_come_down_and_answers_go_up_with_a_prefix(
    start_hub: StartHub, mosquitto: Mosquitto, tmp_path: Path
):
    await mosquitto.start()
    remote = "cloud/" + PREFIX
    cloud = Cloud(mosquitto.port, remote + "command/+/response", remote + "status/update")
    async with cloud.connected() as client:
        stale = b'{"command_id": "long-ago"}'  # retained upstream: it must not run at every connection
        await client.publish(remote + "command/reboot/request", stale, qos=1, retain=True)
        running = await start_hub(bridged_config(tmp_path, mosquitto.port, prefix="cloud/", publish=()))
        await bridge_state(running.hub, BridgeState.CONNECTED)
        await client.publish(
            remote + "command/stop_monitoring/request", b'{"command_id": "from-the-cloud"}', qos=1
        )
        async with asyncio.timeout(WAIT_S):
            while True:
                message = await cloud.received.get()
                if str(message.topic).endswith("/response"):
                    break
    assert str(message.topic) == remote + "command/stop_monitoring/response"
    assert b'"command_id":"from-the-cloud"' in message.payload  # type: ignore[operator]
    assert running.hub.poller.paused
    # the request came down once and was not echoed back up
    assert running.hub.bridge is not None
    assert running.hub.bridge.counters["received"] == 1
    assert running.hub.bridge.counters["retained_ignored"] == 1
    assert running.hub.mqtt_api is not None
    assert running.hub.mqtt_api.commands.counters["requests"] == 1


async def test_last_will_says_offline_when_the_link_is_cut(
    start_hub: StartHub, mosquitto: Mosquitto, tmp_path: Path
):
    await mosquitto.start()
    proxy = TcpProxy(mosquitto.port)
    await proxy.start()
    cloud = Cloud(mosquitto.port, PREFIX + "status/update")
    try:
        async with cloud.connected():
            running = await start_hub(bridged_config(tmp_path, proxy.port, publish=()))
            await bridge_state(running.hub, BridgeState.CONNECTED)
            proxy.cut()  # the connection drops without DISCONNECT, as if the cable were pulled
            offline = await cloud.next_status("offline")
            online = await cloud.next_status("online")  # the bridge reconnects and says so
    finally:
        await proxy.stop()
    assert offline["iot_device_id"] == "hub-1"
    assert online["iot_device_id"] == "hub-1"


def test_config__enabled_without_host_and_bad_values_point_at_their_lines(tmp_path: Path):
    path = tmp_path / "hub.yaml"
    path.write_text(
        "bridge:\n  enabled: true\n  transport: udp\n  prefix: 'a/#'\n  spool:\n    max_messages: 0\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    prefix = "expected a topic prefix without '+', '#' or NUL, such as 'sites/'"
    assert [str(issue) for issue in caught.value.issues] == [
        f"{path}:2: bridge.enabled: an enabled bridge needs `host`, the upstream broker",
        f"{path}:3: bridge.transport: expected one of tcp, tls, wss, got 'udp'",
        f"{path}:4: bridge.prefix: {prefix}, got 'a/#'",
        f"{path}:6: bridge.spool.max_messages: expected int >= 1, got 0",
    ]


@pytest.mark.parametrize("transport", [BridgeTransport.TLS, BridgeTransport.WSS])
async def test_tls_and_wss_with_password_and_client_certificate(
    start_hub: StartHub, tmp_path: Path, transport: BridgeTransport
):
    certs = make_certificates(tmp_path / "certs")
    plain = free_port()  # where the cloud subscriber connects
    tls = f"cafile {certs / 'ca.pem'}\ncertfile {certs / 'server.pem'}\nkeyfile {certs / 'server.key'}\n"
    upstream = Mosquitto(
        tmp_path / "mosquitto",
        settings=f"allow_anonymous false\npassword_file {password_file(certs, 'site-hq', 'hq-secret')}\n",
        listener=("protocol websockets\n" if transport == BridgeTransport.WSS else "")
        + f"{tls}require_certificate true\nlistener {plain} 127.0.0.1\n",
    )
    await upstream.start()
    try:
        cloud = Cloud(plain, username="site-hq", password="hq-secret")
        async with cloud.connected():
            running = await start_hub(
                bridged_config(
                    tmp_path,
                    upstream.port,
                    transport=transport,
                    username="site-hq",
                    password="hq-secret",
                    ca_file=certs / "ca.pem",
                    cert_file=certs / "client.pem",
                    key_file=certs / "client.key",
                )
            )
            await bridge_state(running.hub, BridgeState.CONNECTED)
            publish_seq(running.hub, 1, 5)
            assert await cloud.sequence_until(5) == [1, 2, 3, 4, 5]
        await running.server.close()
    finally:
        await upstream.stop()
