"""Who may connect, and what each client may publish, subscribe to and receive."""

import pytest

from hub.config import MqttUser
from hub.mqtt import access
from hub.mqtt.access import AclPrincipal, ConfigUserAccess

BOB = AclPrincipal(
    "bob",
    publish=("site/b/#",),
    subscribe=("site/b/#", "site/+/public"),
    deny=("site/b/secret/#",),
)
USERS = (
    MqttUser("bob", "bob-pw", publish=BOB.publish, subscribe=BOB.subscribe, deny=BOB.deny),
    MqttUser("émile", "pässwörd", publish=("#",), subscribe=("#",)),
)


@pytest.mark.parametrize("topic", ["site/b", "site/b/temp", "site/b/floor1/temp"])
def test_may_publish__valid(topic):
    assert BOB.may_publish(topic)


@pytest.mark.parametrize(
    "topic", ["site/a/temp", "site/b/secret", "site/b/secret/key", "site/a/public", "other"]
)
def test_may_publish__invalid(topic):
    assert not BOB.may_publish(topic)


@pytest.mark.parametrize("topic", ["site/b/temp", "site/a/public", "site/z/public"])
def test_may_receive__valid(topic):
    assert BOB.may_receive(topic)


@pytest.mark.parametrize("topic", ["site/a/temp", "site/b/secret", "site/b/secret/key", "site/a/public/x"])
def test_may_receive__invalid(topic):
    assert not BOB.may_receive(topic)


@pytest.mark.parametrize(
    "topic_filter",
    ["site/b/#", "site/b/+", "site/b/+/temp", "site/+/public", "site/a/public"],
)
def test_may_subscribe__valid(topic_filter):
    # "site/b/#" overlaps the denied "site/b/secret/#": accepted, and receive checks filter the secrets.
    assert BOB.may_subscribe(topic_filter)


@pytest.mark.parametrize(
    "topic_filter",
    [
        "#",
        "site/#",
        "site/+/temp",
        "site/a/temp",
        "site/b/secret",  # "site/b/secret/#" also denies its parent level
        "site/b/secret/#",
        "site/b/secret/+",
        "site/+/public/#",
    ],
)
def test_may_subscribe__invalid(topic_filter):
    assert not BOB.may_subscribe(topic_filter)


def test_decisions_are_cached_and_the_cache_is_bounded(monkeypatch):
    principal = AclPrincipal("p", publish=("a/#",), subscribe=("a/#",))
    assert principal.may_publish("a/1")
    assert principal.may_receive("b/1") is False
    assert principal._publish_cache == {"a/1": True}
    assert principal._receive_cache == {"b/1": False}
    principal._publish_cache["a/1"] = False  # a cached decision is what is answered
    assert principal.may_publish("a/1") is False

    monkeypatch.setattr(access, "_CACHE_LIMIT", 3)
    for index in range(10):
        principal.may_receive(f"a/{index}")
    assert len(principal._receive_cache) <= 3


async def test_authenticate_known_user():
    store = ConfigUserAccess(USERS)
    principal = await store.authenticate("bob", "bob-pw")
    assert principal is not None
    assert principal.name == "bob"
    assert principal.may_publish("site/b/x")
    assert not principal.may_publish("site/b/secret/x")
    assert (
        await store.authenticate("bob", "bob-pw") is principal
    )  # one principal per user: its cache is shared


async def test_authenticate_non_ascii_credentials():
    store = ConfigUserAccess(USERS)
    assert await store.authenticate("émile", "pässwörd") is not None
    assert await store.authenticate("émile", "passwort") is None


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("bob", "wrong"),
        ("bob", ""),
        ("bob", None),
        ("bob", "bob-pw "),
        ("Bob", "bob-pw"),
        ("mallory", "bob-pw"),
        (None, None),
        (None, "bob-pw"),
    ],
)
async def test_authenticate__invalid(username, password):
    assert await ConfigUserAccess(USERS).authenticate(username, password) is None


async def test_anonymous_when_allowed():
    store = ConfigUserAccess(USERS, allow_anonymous=True)
    principal = await store.authenticate(None, None)
    assert principal is not None
    assert principal.name == "anonymous"
    assert principal.may_publish("any/topic")
    assert principal.may_subscribe("#")
    # Allowing anonymous clients does not weaken named users' passwords.
    assert await store.authenticate("bob", "wrong") is None


async def test_no_users_refuses_everyone():
    store = ConfigUserAccess(())
    assert await store.authenticate(None, None) is None
    assert await store.authenticate("admin", "admin") is None
