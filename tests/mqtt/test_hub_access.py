"""The broker authenticates the hub's users (ACL by role) and browser credentials, next to config users.

Viewers read the site's topic tree, operators also send commands, admins do anything; browser
credentials read what their role reads and publish nothing. Anonymous and bad credentials are
refused, failures count toward the login lockout, and retained messages a client may not
receive never reach it.
"""

import asyncio

import aiomqtt
import pytest

from hub.auth.mqtt_access import BrowserCredentials
from hub.auth.roles import Role
from tests.auth.helpers import login, mqtt_client, send
from tests.conftest import HUB_USERS, RunningHub, StartHub, add_hub_users
from tests.mqtt.helpers import SUBACK_FAILURE, WAIT_S, ConnackCode, connected, raw_client

SITE = "iot/global/acme/hq/"
PREFIX = SITE + "hub-1/"
COMMAND = PREFIX + "command/probe/request"  # no such command: the hub only answers with an error


@pytest.fixture
async def running(start_hub: StartHub) -> RunningHub:
    running = await start_hub()
    await add_hub_users(running.hub)
    return running


def creds(name: str) -> dict[str, str]:
    return {"user": name, "password": HUB_USERS[name][1]}


async def messages_until(client: aiomqtt.Client, topic: str) -> list[str]:
    """Topics received up to and including the first message on `topic`."""
    received = []
    async with asyncio.timeout(WAIT_S):
        async for message in client.messages:
            received.append(message.topic.value)
            if message.topic.value == topic:
                return received
    raise AssertionError("message iteration ended")


@pytest.mark.parametrize(
    ("user", "publish", "refused_publish", "subscribe", "refused_subscribe"),
    [
        (
            "viewer",
            [],
            [COMMAND, PREFIX + "bulk"],
            [SITE + "#", PREFIX + "status/+"],
            ["#", "iot/#", "other/x"],
        ),
        (
            "operator",
            [COMMAND, SITE + "alert-management/acknowledge"],
            [PREFIX + "bulk", "x"],
            [SITE + "#"],
            ["#"],
        ),
        ("admin", [COMMAND, "any/topic"], [], ["#"], []),
    ],
)
async def test_role_acl(running: RunningHub, user, publish, refused_publish, subscribe, refused_subscribe):
    principal = await running.hub.access.authenticate(user, HUB_USERS[user][1])
    assert principal is not None
    assert [t for t in publish + refused_publish if principal.may_publish(t)] == publish
    assert [f for f in subscribe + refused_subscribe if principal.may_subscribe(f)] == subscribe


@pytest.mark.parametrize(
    ("user", "password", "code"),
    [
        ("viewer", "not-the-password", ConnackCode.BAD_USERNAME_PASSWORD),
        ("nobody", "viewer-password", ConnackCode.BAD_USERNAME_PASSWORD),
        ("web-0123456789abcdef", "guess", ConnackCode.BAD_USERNAME_PASSWORD),
        (None, None, ConnackCode.NOT_AUTHORIZED),
    ],
    ids=["wrong-password", "unknown-user", "unknown-browser-credentials", "anonymous"],
)
async def test_bad_credentials_refused(running: RunningHub, user, password, code):
    async with raw_client("websockets", running.http_port) as client:
        async with asyncio.timeout(WAIT_S):
            connack = await client.connect("intruder", username=user, password=password)
    assert connack.code == code


async def test_failed_mqtt_passwords_lock_the_name_from_that_address_for_http_too(running: RunningHub):
    for _ in range(running.hub.config.auth.lockout_failures):
        async with raw_client("websockets", running.http_port) as client:
            async with asyncio.timeout(WAIT_S):
                connack = await client.connect("guesser", username="viewer", password="wrong-password")
        assert connack.code == ConnackCode.BAD_USERNAME_PASSWORD
    right = HUB_USERS["viewer"][1]
    assert await running.hub.access.authenticate("viewer", right, "127.0.0.1") is None
    answer = await send(running, "POST", "/api/auth/login", json={"username": "viewer", "password": right})
    assert answer.status == 429
    assert await running.hub.access.authenticate("viewer", right, "10.0.0.7") is not None  # another PC


async def test_viewer_subscription_outside_the_tree_is_refused(running: RunningHub):
    async with connected("websockets", running.http_port, "viewer-raw", **creds("viewer")) as viewer:
        async with asyncio.timeout(WAIT_S):
            codes = await viewer.subscribe(("#", 1), (SITE + "#", 1), ("other/#", 0))
    assert codes == (SUBACK_FAILURE, 1, SUBACK_FAILURE)


async def test_operator_commands_arrive_a_viewers_do_not(running: RunningHub):
    async with (
        mqtt_client(running, "admin", "admin-password", identifier="watch") as admin,
        mqtt_client(running, "viewer", "viewer-password", identifier="viewer") as viewer,
        mqtt_client(running, "operator", "operator-password", identifier="operator") as operator,
    ):
        await admin.subscribe(PREFIX + "command/+/request", qos=1)
        await viewer.publish(COMMAND, b'{"command_id": "from-viewer"}', qos=1)  # acknowledged, dropped
        await operator.publish(COMMAND, b'{"command_id": "from-operator"}', qos=1)
        async with asyncio.timeout(WAIT_S):
            message = await anext(admin.messages)
    assert message.payload == b'{"command_id": "from-operator"}'


async def test_retained_messages_of_others_are_never_delivered(running: RunningHub):
    async with mqtt_client(running, "admin", "admin-password", identifier="owner") as admin:
        await admin.subscribe("private/#", qos=1)  # in the broker-wide subscription table
        await admin.publish("private/state", b"secret", qos=1, retain=True)
        await admin.publish(SITE + "retained", b"shared", qos=1, retain=True)
        async with mqtt_client(running, "viewer", "viewer-password", identifier="reader") as viewer:
            await viewer.subscribe(SITE + "#", qos=1)
            await viewer.subscribe("private/#", qos=1)  # refused (SUBACK 0x80)
            await admin.publish(SITE + "marker", b"m", qos=1)
            received = await messages_until(viewer, SITE + "marker")
    assert SITE + "retained" in received
    assert not [topic for topic in received if not topic.startswith(SITE)]


async def test_browser_credentials_read_what_the_role_reads_and_publish_nothing(running: RunningHub):
    session = await login(running, "operator", "operator-password")
    answer = await send(running, "POST", "/api/auth/mqtt-credentials", headers=session)
    assert answer.status == 200
    issued = answer.body
    assert issued["username"].startswith("web-")
    assert issued["expires_at"].endswith("Z")

    principal = await running.hub.access.authenticate(issued["username"], issued["password"])
    assert principal is not None
    assert principal.may_subscribe(SITE + "#")
    assert not principal.may_subscribe("#")
    assert not principal.may_publish(COMMAND), "read rights only, even for an operator"
    async with mqtt_client(running, issued["username"], issued["password"], identifier="browser") as browser:
        await browser.subscribe(PREFIX + "status/update", qos=1)
        async with asyncio.timeout(WAIT_S):
            status = await anext(browser.messages)  # the hub's retained status
    assert status.topic.value == PREFIX + "status/update"
    assert await running.hub.access.authenticate(issued["username"], "wrong") is None


async def test_browser_credentials_need_csrf_from_a_session(running: RunningHub):
    session = await login(running, "viewer", "viewer-password")
    del session["X-CSRF-Token"]
    assert (await send(running, "POST", "/api/auth/mqtt-credentials", headers=session)).status == 403


def test_browser_credentials_expire_and_never_outlive_their_session():
    now = [1000.0]
    browser = BrowserCredentials(ttl=60, clock=lambda: now[0])
    issued = browser.issue("ada", Role.VIEWER)
    short = browser.issue("ada", Role.VIEWER, not_after=1010.0)
    assert short.expires_at == 1010.0
    now[0] = 1010.0
    assert browser.check(short.username, short.password) is None
    assert browser.check(issued.username, issued.password) == issued
    now[0] = 1060.0
    assert browser.check(issued.username, issued.password) is None
    fresh = browser.issue("ada", Role.VIEWER)
    browser.revoke_owner("ada")
    assert browser.check(fresh.username, fresh.password) is None


async def test_config_machine_users_keep_their_own_acl(running: RunningHub):
    principal = await running.hub.access.authenticate("alice", "alice-pw")
    assert principal is not None
    assert principal.may_publish("site/a/x")
    assert not principal.may_publish(COMMAND)
