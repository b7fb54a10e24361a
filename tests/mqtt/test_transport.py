"""The broker's behaviour as clients see it, shown identical over WebSocket (/mqtt) and TCP.

Real clients (aiomqtt) against a real hub; the raw client from `helpers` where aiomqtt cannot
do what the test needs (vanish without DISCONNECT, read CONNACK/SUBACK codes and flags).
Absence is shown with a marker: a message published afterwards on the same path must be the
first to arrive.
"""

import asyncio
import json

import aiomqtt
import pytest

from hub import __version__
from hub.mqtt.engine import InboundMessage
from tests.conftest import PASSWORDS, TRANSPORTS, RunningHub, StartHub
from tests.mqtt.helpers import (
    SUBACK_FAILURE,
    WAIT_S,
    ConnackCode,
    Kind,
    Will,
    connected,
    frame,
    login,
    raw_client,
)

STATUS_PREFIX = "iot/global/acme/hq/hub-1/status/"


def port_of(running: RunningHub, transport: str) -> int:
    return running.http_port if transport == "websockets" else running.tcp_port


async def next_message(client: aiomqtt.Client) -> aiomqtt.Message:
    async with asyncio.timeout(WAIT_S):
        return await anext(client.messages)


async def messages_until(client: aiomqtt.Client, topic: str) -> list[aiomqtt.Message]:
    """Every message received up to and including the first one on `topic`."""
    received = []
    async with asyncio.timeout(WAIT_S):
        async for message in client.messages:
            received.append(message)
            if message.topic.value == topic:
                return received
    raise AssertionError("message iteration ended")  # pragma: no cover


@pytest.fixture
async def running(start_hub: StartHub) -> RunningHub:
    return await start_hub()


# -- delivery ----------------------------------------------------------------------------


@pytest.mark.parametrize("qos", [0, 1])
@pytest.mark.parametrize("sub_transport", TRANSPORTS)
@pytest.mark.parametrize("pub_transport", TRANSPORTS)
async def test_round_trip(running: RunningHub, pub_transport: str, sub_transport: str, qos: int) -> None:
    async with (
        running.client(sub_transport, identifier="sub") as sub,
        running.client(pub_transport, identifier="pub") as pub,
    ):
        await sub.subscribe("x/#", qos=1)
        await pub.publish("x/1/temp", b"21.5", qos=qos)
        message = await next_message(sub)

    assert (message.topic.value, message.payload, message.qos, message.retain) == (
        "x/1/temp",
        b"21.5",
        qos,
        False,
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_retained_message_reaches_late_subscriber_and_is_cleared(
    running: RunningHub, transport: str
) -> None:
    async with running.client(transport, identifier="pub") as pub:
        await pub.publish("r/1", b"on", qos=1, retain=True)
        async with running.client(transport, identifier="late") as late:
            await late.subscribe("r/#", qos=1)
            retained = await next_message(late)
            await pub.publish("r/1", b"", qos=1, retain=True)  # [MQTT-3.3.1-10] clears it
            cleared = await next_message(late)
        async with running.client(transport, identifier="later") as later:
            await later.subscribe("r/#", qos=1)
            await pub.publish("r/marker", b"m", qos=1)
            after_clear = await messages_until(later, "r/marker")

    assert (retained.topic.value, retained.payload, retained.qos, retained.retain) == ("r/1", b"on", 1, True)
    # A live delivery to an existing subscription carries retain 0 [MQTT-3.3.1-9].
    assert (cleared.topic.value, cleared.payload, cleared.retain) == ("r/1", b"", False)
    assert [m.topic.value for m in after_clear] == ["r/marker"]


# -- last will ---------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_last_will_published_when_client_is_killed(running: RunningHub, transport: str) -> None:
    will = Will("will/device-7", b"offline", qos=1)
    async with running.client(transport, identifier="observer") as observer:
        await observer.subscribe("will/#", qos=1)
        async with connected(
            transport, port_of(running, transport), "device-7", will=will, **login("admin")
        ) as device:
            await device.kill()
        message = await next_message(observer)

    assert (message.topic.value, message.payload, message.qos) == ("will/device-7", b"offline", 1)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_no_last_will_after_clean_disconnect(running: RunningHub, transport: str) -> None:
    will = Will("will/device-8", b"offline", qos=1)
    async with running.client(transport, identifier="observer") as observer:
        await observer.subscribe("will/#", qos=1)
        async with connected(
            transport, port_of(running, transport), "device-8", will=will, **login("admin")
        ) as device:
            await device.send(frame(Kind.DISCONNECT, 0, b""))
            async with asyncio.timeout(WAIT_S):
                assert await device.wait_closed() == []  # the broker ends the connection
        await observer.publish("will/marker", b"m", qos=1)
        received = await messages_until(observer, "will/marker")

    assert [m.topic.value for m in received] == ["will/marker"]


# -- persistent sessions -----------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_persistent_session_gets_messages_published_while_away(
    running: RunningHub, transport: str
) -> None:
    async with running.client(transport, identifier="persistent", clean_session=False) as device:
        await device.subscribe("p/#", qos=1)
    async with running.client(transport, identifier="pub") as pub:
        for index in range(3):
            await pub.publish(f"p/{index}", f"v{index}".encode(), qos=1)
    async with running.client(transport, identifier="persistent", clean_session=False) as device:
        received = [await next_message(device) for _ in range(3)]

    assert [(m.topic.value, m.payload, m.qos) for m in received] == [
        ("p/0", b"v0", 1),
        ("p/1", b"v1", 1),
        ("p/2", b"v2", 1),
    ]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_session_present_flag(running: RunningHub, transport: str) -> None:
    port = port_of(running, transport)
    flags = []
    for clean_session in (False, False, True):
        async with raw_client(transport, port) as device:
            async with asyncio.timeout(WAIT_S):
                connack = await device.connect(
                    "flagged", clean_session=clean_session, username="admin", password=PASSWORDS["admin"]
                )
                assert connack.code == ConnackCode.ACCEPTED
                if not flags:
                    assert await device.subscribe(("p/#", 1)) == (1,)
            flags.append(connack.session_present)
            await device.disconnect()

    # new persistent session; the same session resumed; a clean session never has one
    assert flags == [False, True, False]


# -- in-process publish and subscribe ----------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_in_process_publish_reaches_network_subscriber(running: RunningHub, transport: str) -> None:
    async with running.client(transport, identifier="sub") as sub:
        await sub.subscribe("hub/#", qos=1)
        running.hub.broker.publish("hub/point/1", b"42", qos=1)
        message = await next_message(sub)

    assert (message.topic.value, message.payload, message.qos) == ("hub/point/1", b"42", 1)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_in_process_subscriber_sees_client_publish(running: RunningHub, transport: str) -> None:
    seen: asyncio.Queue[InboundMessage] = asyncio.Queue()
    unsubscribe = running.hub.broker.subscribe("dev/#", seen.put_nowait)
    try:
        async with running.client(transport, identifier="device-9") as device:
            await device.publish("dev/9/state", b"running", qos=1)
            async with asyncio.timeout(WAIT_S):
                message = await seen.get()
    finally:
        unsubscribe()

    assert message == InboundMessage("dev/9/state", b"running", 1, False, "device-9")


# -- authentication and access control ---------------------------------------------------


@pytest.mark.parametrize(
    ("user", "password", "code"),
    [
        ("alice", "not-alice-pw", ConnackCode.BAD_USERNAME_PASSWORD),
        ("mallory", "alice-pw", ConnackCode.BAD_USERNAME_PASSWORD),
        (None, None, ConnackCode.NOT_AUTHORIZED),
    ],
    ids=["wrong-password", "unknown-user", "anonymous"],
)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_connect_refused(
    running: RunningHub, transport: str, user: str | None, password: str | None, code: int
) -> None:
    async with raw_client(transport, port_of(running, transport)) as client:
        async with asyncio.timeout(WAIT_S):
            connack = await client.connect("intruder", username=user, password=password)
            after = await client.wait_closed()

    assert (connack.code, connack.session_present) == (code, False)
    assert after == []


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_publish_outside_acl_is_not_delivered(running: RunningHub, transport: str) -> None:
    async with (
        running.client(transport, identifier="admin-watch") as admin,
        running.client(transport, user="alice", identifier="alice") as alice,
    ):
        await admin.subscribe("site/#", qos=1)
        await alice.publish("site/b/setpoint", b"99", qos=1)
        await alice.publish("site/a/marker", b"m", qos=1)
        received = await messages_until(admin, "site/a/marker")

    assert [m.topic.value for m in received] == ["site/a/marker"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_denied_subscription_refused_and_denied_topic_not_delivered(
    running: RunningHub, transport: str
) -> None:
    async with connected(transport, port_of(running, transport), "bob-raw", **login("bob")) as raw_bob:
        async with asyncio.timeout(WAIT_S):
            codes = await raw_bob.subscribe(("site/b/secret/#", 1), ("site/b/#", 1))
    assert codes == (SUBACK_FAILURE, 1)

    async with (
        running.client(transport, identifier="admin") as admin,
        running.client(transport, user="bob", identifier="bob") as bob,
    ):
        await bob.subscribe("site/b/#", qos=1)
        await admin.publish("site/b/secret/x", b"secret", qos=1)
        await admin.publish("site/b/marker", b"m", qos=1)
        received = await messages_until(bob, "site/b/marker")

    assert [m.topic.value for m in received] == ["site/b/marker"]


# -- the hub's own status ----------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_status_update_is_retained_online_message(running: RunningHub, transport: str) -> None:
    async with running.client(transport, identifier="dashboard") as dashboard:
        await dashboard.subscribe(STATUS_PREFIX + "update", qos=1)
        message = await next_message(dashboard)

    status = json.loads(message.payload)  # type: ignore[arg-type]
    assert (message.topic.value, message.qos, message.retain) == (STATUS_PREFIX + "update", 1, True)
    assert status["status"] == "online"
    assert status["version"] == __version__
    assert (status["org_id"], status["site_id"], status["iot_device_id"]) == ("acme", "hq", "hub-1")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_heartbeat_is_retained(running: RunningHub, transport: str) -> None:
    async with running.client(transport, identifier="first") as first:
        await first.subscribe(STATUS_PREFIX + "heartbeat", qos=1)
        await next_message(first)  # retained or live: the first heartbeat has been published
    async with running.client(transport, identifier="late") as late:
        await late.subscribe(STATUS_PREFIX + "heartbeat", qos=1)
        message = await next_message(late)

    heartbeat = json.loads(message.payload)  # type: ignore[arg-type]
    assert (message.qos, message.retain) == (1, True)
    assert {"timestamp", "uptime_s", "counters", "mqtt_clients"} <= heartbeat.keys()
