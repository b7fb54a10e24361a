"""Topic names and filters (MQTT 3.1.1 section 4.7), and ACL coverage."""

import pytest

from hub.mqtt.topics import covers, matches, topic_filter_problem, topic_name_problem


@pytest.mark.parametrize(
    "topic",
    [
        "a",
        "a/b/c",
        "/leading",
        "trailing/",
        "a//b",
        " ",
        "iot/global/acme/hq/hub-1/status/update",
        "ünïcødé/°C",
    ],
)
def test_topic_name_problem__valid(topic):
    assert topic_name_problem(topic) is None


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("", "empty"),
        ("a/+/b", "wildcard"),
        ("a/#", "wildcard"),
        ("a+b", "wildcard"),
        ("$SYS/broker", "reserved"),
        ("$share/g/t", "reserved"),
        ("a\x00b", "NUL"),
    ],
)
def test_topic_name_problem__invalid(topic, reason):
    problem = topic_name_problem(topic)
    assert problem is not None
    assert reason in problem


@pytest.mark.parametrize(
    "topic_filter",
    ["#", "+", "a/#", "a/+/c", "+/+", "/+", "+/tennis/#", "sport/tennis/player1", "a//b", "$SYS/#"],
)
def test_topic_filter_problem__valid(topic_filter):
    assert topic_filter_problem(topic_filter) is None


@pytest.mark.parametrize(
    "topic_filter",
    ["", "sport/tennis#", "sport/#/ranking", "#/a", "sport+", "a/b+/c", "a/++", "a/##", "a\x00b"],
)
def test_topic_filter_problem__invalid(topic_filter):
    assert topic_filter_problem(topic_filter) is not None


@pytest.mark.parametrize(
    ("topic", "topic_filter"),
    [
        ("a/b", "a/b"),
        ("sport/tennis/player1", "sport/tennis/player1/#"),  # '#' also matches the parent level
        ("sport/tennis/player1/ranking", "sport/tennis/player1/#"),
        ("sport/tennis/player1/score/wimbledon", "sport/tennis/player1/#"),
        ("sport", "sport/#"),
        ("anything/at/all", "#"),
        ("sport/tennis", "sport/+"),
        ("sport/", "sport/+"),  # '+' matches an empty level
        ("/finance", "+/+"),
        ("/finance", "/+"),
        ("a/b/c", "a/+/#"),
        ("a/b", "a/+/#"),
        ("$SYS/broker", "$SYS/#"),
        ("$SYS/broker", "$SYS/+"),
    ],
)
def test_matches__valid(topic, topic_filter):
    assert matches(topic, topic_filter)


@pytest.mark.parametrize(
    ("topic", "topic_filter"),
    [
        ("a/b", "a/c"),
        ("a/b", "a"),
        ("a", "a/b"),
        ("sport", "sport/+"),
        ("sport/tennis/player1", "sport/+"),
        ("/finance", "+"),
        ("a/b/c", "a/+"),
        ("b", "a/#"),
        ("$SYS/broker", "#"),  # wildcards at the first level do not match $ topics
        ("$SYS/broker", "+/broker"),
        ("A/b", "a/b"),  # case matters
    ],
)
def test_matches__invalid(topic, topic_filter):
    assert not matches(topic, topic_filter)


@pytest.mark.parametrize(
    ("pattern", "topic_filter"),
    [
        ("#", "#"),
        ("#", "a/+/c"),
        ("site/#", "site/#"),
        ("site/#", "site/a/#"),
        ("site/#", "site/+/temp"),
        ("site/+/temp", "site/+/temp"),
        ("site/+/temp", "site/a/temp"),
        ("site/a", "site/a"),
        ("+/+", "a/b"),
    ],
)
def test_covers__valid(pattern, topic_filter):
    assert covers(pattern, topic_filter)


@pytest.mark.parametrize(
    ("pattern", "topic_filter"),
    [
        ("site/#", "#"),
        ("site/#", "+/a"),
        ("site/+", "site/#"),
        ("site/+", "site/a/b"),
        ("site/a", "site/+"),
        ("site/a/temp", "site/+/temp"),
        ("site/+/temp", "site/+"),
        ("a/b", "a"),
        ("a", "a/b"),
    ],
)
def test_covers__invalid(pattern, topic_filter):
    assert not covers(pattern, topic_filter)


@pytest.mark.parametrize(
    ("pattern", "topic_filter", "topic"),
    [("site/#", "site/+/temp", "site/x/temp"), ("+/+/c", "a/+/c", "a/q/c"), ("#", "a/#", "a/b/c")],
)
def test_covers_implies_matches(pattern, topic_filter, topic):
    """Whatever a covered filter matches, the pattern matches too."""
    assert covers(pattern, topic_filter)
    assert matches(topic, topic_filter)
    assert matches(topic, pattern)
