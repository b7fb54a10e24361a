"""MQTT topic names and filters: validation, matching, and ACL coverage."""


def topic_name_problem(topic: str) -> str | None:
    """Say why `topic` cannot be published to, or None when it can."""
    if not topic:
        return "empty topic"
    if "+" in topic or "#" in topic:
        return "wildcard in a topic name"
    if topic.startswith("$"):
        return "topics starting with $ are reserved for the broker"
    if "\x00" in topic:
        return "NUL character in topic"
    return None


def topic_filter_problem(topic_filter: str) -> str | None:
    """Say why `topic_filter` is not a valid subscription filter, or None when it is."""
    if not topic_filter:
        return "empty topic filter"
    if "\x00" in topic_filter:
        return "NUL character in topic filter"
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return "'#' must be a whole level and the last one"
        if "+" in level and level != "+":
            return "'+' must be a whole level"
    return None


def matches(topic: str, topic_filter: str) -> bool:
    """Whether a topic name matches a filter (MQTT 3.1.1 section 4.7)."""
    if "+" not in topic_filter and "#" not in topic_filter:
        return topic == topic_filter
    if topic.startswith("$") and topic_filter[0] in "+#":
        return False
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= len(topic_levels):
            return False
        if level != "+" and level != topic_levels[index]:
            return False
    return len(filter_levels) == len(topic_levels)


def covers(pattern: str, topic_filter: str) -> bool:
    """Whether every topic matched by `topic_filter` is also matched by `pattern`.

    Used for SUBSCRIBE: a client may subscribe to `site/+/temp` under an ACL
    pattern `site/#`, but not to `#` under `site/#`.
    """
    pattern_levels = pattern.split("/")
    filter_levels = topic_filter.split("/")
    for index, level in enumerate(pattern_levels):
        if level == "#":
            return True
        if index >= len(filter_levels):
            return False
        wanted = filter_levels[index]
        if wanted == "#":
            return False
        if level != "+" and level != wanted:
            return False
    return len(pattern_levels) == len(filter_levels)
