"""One regression test per amqtt 0.12.1 defect that `hub.mqtt.engine.HubBroker` fixes.

Each test runs against the hub and, where amqtt can be configured to do the same job, against
a plain `amqtt.broker.Broker` 0.12.1 with its stock auth and ACL plugins. The stock runs are
strict xfails: they prove the test catches the defect, and turn red if amqtt's behaviour
changes (time to review the fix). Raw clients are used throughout: the defects are about
packets that well-behaved library clients never send (or never fail to send).

Where a test shows that something did *not* happen, it does so with a marker rather than a
wait: a message published afterwards must be the first to arrive, or a PINGREQ sent behind
a bad packet must find the connection already closed.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from amqtt.broker import Broker
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from tests.conftest import USERS, StartHub
from tests.mqtt.helpers import (
    SUBACK_FAILURE,
    WAIT_S,
    Kind,
    Packet,
    Will,
    connected,
    decode_publish,
    login,
    publish_packet,
)

HUB = "hub"
STOCK = "stock-amqtt"
# Keep-alive is the one defect only time can show: the hub drops a silent client after
# 1.5 x 1 s; this bound only stops the stock run (which never drops it) from hanging.
KEEPALIVE_WAIT_S = 4.0

# Stock amqtt's ACL plugin only takes subscribe rules under the deprecated `acl` key.
pytestmark = pytest.mark.filterwarnings("ignore:The 'acl' option is deprecated:DeprecationWarning")


def against_stock(defect: int, what: str) -> pytest.MarkDecorator:
    """Run a test on the hub, and on stock amqtt where it must fail because of `defect`."""
    stock = pytest.param(
        STOCK, marks=pytest.mark.xfail(strict=True, reason=f"amqtt 0.12.1 defect {defect}: {what}")
    )
    return pytest.mark.parametrize("flavour", [HUB, stock])


@dataclass(frozen=True)
class BrokerUnderTest:
    """Where to reach the broker a test runs against (always plain TCP on loopback)."""

    flavour: str
    port: int


StartBroker = Callable[..., Awaitable[BrokerUnderTest]]


def _stock_config(tmp_path: Path, allow_anonymous: bool) -> dict[str, object]:
    """Stock amqtt configured like the hub's test config, as far as its plugins can express it.

    Users and passwords: `FileAuthPlugin` (argon2 hashes). Rights: `TopicAccessControlListPlugin`
    with each user's subscribe and publish allow-lists. What it cannot express: deny rules, and a
    receive check (its dataclass config has no receive-acl), so nothing here relies on them.
    """
    listeners = {"default": {"type": "tcp", "bind": "127.0.0.1:0"}}
    if allow_anonymous:
        plugins: dict[str, object] = {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
        }
    else:
        hasher = PasswordHash((Argon2Hasher(),))
        password_file = tmp_path / "stock-amqtt-passwords"
        password_file.write_text("".join(f"{u.username}:{hasher.hash(u.password)}\n" for u in USERS))
        plugins = {
            "amqtt.plugins.authentication.FileAuthPlugin": {"password_file": str(password_file)},
            "amqtt.plugins.topic_checking.TopicAccessControlListPlugin": {
                "acl": {u.username: list(u.subscribe) for u in USERS},
                "publish_acl": {u.username: list(u.publish) for u in USERS},
            },
        }
    return {"listeners": listeners, "plugins": plugins}


@pytest.fixture
async def start_broker(start_hub: StartHub, tmp_path: Path) -> AsyncIterator[StartBroker]:
    """Start the hub, or stock amqtt in this event loop on its own free loopback port."""
    stock_brokers: list[Broker] = []

    async def start(flavour: str, *, allow_anonymous: bool = False) -> BrokerUnderTest:
        if flavour == HUB:
            running = await start_hub(allow_anonymous=allow_anonymous)
            return BrokerUnderTest(flavour, running.tcp_port)
        broker = Broker(_stock_config(tmp_path, allow_anonymous))
        await broker.start()
        stock_brokers.append(broker)
        port = broker._servers["default"].instance.sockets[0].getsockname()[1]
        return BrokerUnderTest(flavour, port)

    yield start
    for broker in stock_brokers:
        await broker.shutdown()


# -- defect 1 ----------------------------------------------------------------------------


@against_stock(1, "on CONNECT, retained messages of every filter in the broker are sent, unchecked")
async def test_retained_message_of_another_building_not_sent_on_connect(
    start_broker: StartBroker, flavour: str
) -> None:
    broker = await start_broker(flavour)
    port = broker.port
    async with (
        connected("tcp", port, "d1-admin", **login("admin")) as admin,
        connected("tcp", port, "d1-bob", **login("bob")) as bob,
    ):
        await admin.publish("site/b/x", b"building b only", qos=1, retain=True)
        assert await bob.subscribe(("site/b/#", 1)) == (1,)  # puts site/b/# in the broker's table
        assert (await bob.next_publish()).topic == "site/b/x"

        async with connected("tcp", port, "d1-alice", **login("alice")) as alice:
            assert await alice.subscribe(("site/a/#", 1)) == (1,)
            await admin.publish("site/a/marker", b"m", qos=1)
            async with asyncio.timeout(WAIT_S):
                received = await alice.publishes_until("site/a/marker")

    assert [m.topic for m in received] == ["site/a/marker"]


async def test_retained_message_checked_against_deny_rule_on_subscribe(start_hub: StartHub) -> None:
    """Hub only: stock amqtt's ACL plugin has no deny rule (defect 6), so it cannot be set up alike."""
    port = (await start_hub()).tcp_port
    async with (
        connected("tcp", port, "d1d-admin", **login("admin")) as admin,
        connected("tcp", port, "d1d-bob", **login("bob")) as bob,
    ):
        await admin.publish("site/b/secret/x", b"secret", qos=1, retain=True)
        await admin.publish("site/b/open", b"open", qos=1, retain=True)
        assert await bob.subscribe(("site/b/#", 1)) == (1,)
        await admin.publish("site/b/marker", b"m", qos=1)
        async with asyncio.timeout(WAIT_S):
            received = await bob.publishes_until("site/b/marker")

    assert [(m.topic, m.retain) for m in received] == [("site/b/open", True), ("site/b/marker", False)]


# -- defect 2 ----------------------------------------------------------------------------


@against_stock(2, "keep-alive is never enforced (handle_read_timeout does nothing)")
async def test_silent_client_is_dropped_after_keep_alive_and_its_will_sent(
    start_broker: StartBroker, flavour: str
) -> None:
    broker = await start_broker(flavour)
    port = broker.port
    will = Will("will/silent", b"gone quiet", qos=1)
    async with connected("tcp", port, "d2-healthy", keep_alive=1, **login("admin")) as healthy:

        async def keep_pinging() -> None:
            # A healthy client with the same keep-alive, pinging well within it, must stay connected.
            while True:
                await healthy.ping()
                await asyncio.sleep(0.3)

        pinger = asyncio.create_task(keep_pinging())
        try:
            async with connected("tcp", port, "d2-observer", **login("admin")) as observer:
                assert await observer.subscribe(("will/#", 1)) == (1,)
                async with connected(
                    "tcp", port, "d2-silent", keep_alive=1, will=will, **login("admin")
                ) as silent:
                    async with asyncio.timeout(KEEPALIVE_WAIT_S):
                        assert await silent.wait_closed() == []
                        message = await observer.next_publish()
            if pinger.done():
                pinger.result()  # raises why the healthy client lost its connection
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger
        async with asyncio.timeout(WAIT_S):
            await healthy.ping()
    assert (message.topic, message.payload) == ("will/silent", b"gone quiet")


# -- defect 3 ----------------------------------------------------------------------------


@pytest.mark.parametrize("topic", ["$x", "a/#", ""], ids=["dollar", "wildcard", "empty"])
@against_stock(3, "a PUBLISH to an invalid topic ends the message loop but leaves the client connected")
async def test_publish_to_invalid_topic_closes_that_client_and_sends_its_will(
    start_broker: StartBroker, flavour: str, topic: str
) -> None:
    broker = await start_broker(flavour)
    port = broker.port
    will = Will("will/bad", b"bad client gone")
    async with (
        connected("tcp", port, "d3-observer", **login("admin")) as observer,
        connected("tcp", port, "d3-other", **login("admin")) as other,
    ):
        assert await observer.subscribe(("will/#", 1), ("ok/#", 1)) == (1, 1)
        async with connected("tcp", port, "d3-bad", will=will, **login("admin")) as bad:
            await bad.publish(topic, b"")
            # A PINGREQ right behind it: a broker that kept the connection open answers it.
            await bad.send(bytes((Kind.PINGREQ << 4, 0)))
            async with asyncio.timeout(WAIT_S):
                answer = await bad.read_packet()
            assert answer is None, f"the broker kept serving a client that broke the protocol: {answer}"

        await other.publish("ok/1", b"still fine", qos=1)
        async with asyncio.timeout(WAIT_S):
            received = await observer.publishes_until("ok/1")
        async with asyncio.timeout(WAIT_S):
            await other.ping()

    assert [(m.topic, m.payload) for m in received] == [
        ("will/bad", b"bad client gone"),
        ("ok/1", b"still fine"),
    ]


# -- defect 4 ----------------------------------------------------------------------------


@against_stock(4, "unacknowledged QoS 1 messages are discarded when the connection drops")
async def test_unacknowledged_qos1_message_is_resent_with_dup_on_reconnect(
    start_broker: StartBroker, flavour: str
) -> None:
    broker = await start_broker(flavour)
    port = broker.port
    async with connected("tcp", port, "d4-publisher", **login("admin")) as publisher:
        async with connected("tcp", port, "d4-sub", clean_session=False, **login("admin")) as first:
            assert await first.subscribe(("q/#", 1)) == (1,)
            await publisher.publish("q/1", b"at least once", qos=1)
            async with asyncio.timeout(WAIT_S):
                original = await first.next_publish(ack=False)  # received, never acknowledged
            await first.kill()
        assert (original.topic, original.qos, original.dup) == ("q/1", 1, False)

        async with connected("tcp", port, "d4-sub", clean_session=False, **login("admin")) as second:
            await publisher.publish("q/marker", b"m", qos=1)
            async with asyncio.timeout(WAIT_S):
                received = await second.publishes_until("q/marker")
            await second.disconnect()  # everything received was acknowledged by publishes_until

        async with connected("tcp", port, "d4-sub", clean_session=False, **login("admin")) as third:
            await publisher.publish("q/marker2", b"m", qos=1)
            async with asyncio.timeout(WAIT_S):
                after_ack = await third.publishes_until("q/marker2")

    resent = received[0]
    assert (resent.topic, resent.payload, resent.qos, resent.dup) == ("q/1", b"at least once", 1, True)
    assert resent.packet_id == original.packet_id
    assert [m.topic for m in received] == ["q/1", "q/marker"]
    assert [m.topic for m in after_ack] == ["q/marker2"], "an acknowledged message was sent again"


# -- defect 5 ----------------------------------------------------------------------------


@against_stock(5, "anonymous sessions are never kept, even with clean session false")
async def test_anonymous_persistent_session_gets_messages_sent_while_away(
    start_broker: StartBroker, flavour: str
) -> None:
    broker = await start_broker(flavour, allow_anonymous=True)
    port = broker.port
    async with connected("tcp", port, "d5-publisher") as publisher:
        async with connected("tcp", port, "d5-anon", clean_session=False) as away:
            assert await away.subscribe(("q/#", 1)) == (1,)
            await away.disconnect()
        await publisher.publish("q/1", b"while away", qos=1)

        async with connected("tcp", port, "d5-anon", clean_session=False) as back:
            await publisher.publish("q/marker", b"m", qos=1)
            async with asyncio.timeout(WAIT_S):
                received = await back.publishes_until("q/marker")

    assert [(m.topic, m.payload) for m in received] == [("q/1", b"while away"), ("q/marker", b"m")]


@against_stock(5, "a persistent take-over of a clean session keeps clean_session=True")
async def test_persistent_take_over_of_clean_session_is_kept(start_broker: StartBroker, flavour: str) -> None:
    broker = await start_broker(flavour)
    port = broker.port
    async with connected("tcp", port, "d5t-publisher", **login("admin")) as publisher:
        async with connected("tcp", port, "d5t-device", clean_session=True, **login("admin")) as clean:
            assert await clean.subscribe(("q/#", 1)) == (1,)
            async with connected("tcp", port, "d5t-device", clean_session=False, **login("admin")) as taker:
                async with asyncio.timeout(WAIT_S):
                    await clean.wait_closed()  # the broker closed the older connection
                assert await taker.subscribe(("q/#", 1)) == (1,)
                await taker.disconnect()
        await publisher.publish("q/1", b"while away", qos=1)

        async with connected("tcp", port, "d5t-device", clean_session=False, **login("admin")) as back:
            await publisher.publish("q/marker", b"m", qos=1)
            async with asyncio.timeout(WAIT_S):
                received = await back.publishes_until("q/marker")

    assert [(m.topic, m.payload) for m in received] == [("q/1", b"while away"), ("q/marker", b"m")]


# -- defect 6 ----------------------------------------------------------------------------


async def test_denied_filter_gets_suback_failure_and_no_messages(start_hub: StartHub) -> None:
    """Hub only: stock amqtt's TopicAccessControlListPlugin has no deny rule, so it cannot allow
    `site/b/#` while refusing `site/b/secret/#`; there is no equivalent stock setup to compare."""
    port = (await start_hub()).tcp_port
    async with (
        connected("tcp", port, "d6-admin", **login("admin")) as admin,
        connected("tcp", port, "d6-bob", **login("bob")) as bob,
    ):
        codes = await bob.subscribe(("site/b/#", 1), ("site/b/secret/#", 1), ("site/b/secret/x", 0))
        assert codes == (1, SUBACK_FAILURE, SUBACK_FAILURE)
        await admin.publish("site/b/secret/x", b"secret", qos=1)
        await admin.publish("site/b/marker", b"m", qos=1)
        async with asyncio.timeout(WAIT_S):
            received = await bob.publishes_until("site/b/marker")

    assert [m.topic for m in received] == ["site/b/marker"]


def test_decode_publish_reads_dup_and_packet_id() -> None:
    """The raw client's own decoder, which the DUP assertions above rely on."""
    data = publish_packet("a/b", b"xy", qos=1, retain=True, packet_id=7, dup=True)
    message = decode_publish(Packet(data[0] >> 4, data[0] & 0x0F, data[2:]))
    assert (message.topic, message.payload, message.qos, message.retain, message.dup, message.packet_id) == (
        "a/b",
        b"xy",
        1,
        True,
        True,
        7,
    )
