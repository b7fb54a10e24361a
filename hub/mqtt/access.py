"""Who may connect to the broker and what each client may publish, subscribe to and receive.

The broker only sees the two small protocols below. Today the users come from the config
file; the security issue moves them into the hub's user store by providing another
`BrokerAccess`, without touching the broker.
"""

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from hub.config import MqttUser
from hub.mqtt.topics import covers, matches

_CACHE_LIMIT = 20_000


class Principal(Protocol):
    """An authenticated broker client's rights. Checks run per message: keep them cheap."""

    name: str

    def may_publish(self, topic: str) -> bool:
        """Whether the client may publish to a topic name."""
        ...

    def may_subscribe(self, topic_filter: str) -> bool:
        """Whether the client may subscribe with a topic filter."""
        ...

    def may_receive(self, topic: str) -> bool:
        """Whether a message on `topic` may be delivered to the client."""
        ...


class BrokerAccess(Protocol):
    """Authenticates broker clients."""

    async def authenticate(
        self, username: str | None, password: str | None, remote: str | None = None
    ) -> Principal | None:
        """Return the client's rights, or None to refuse the connection (`remote`: its address)."""
        ...


@dataclass(eq=False)
class AclPrincipal:
    """Allow-lists of topic filters with a deny list that overrides them; decisions are cached."""

    name: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    deny: tuple[str, ...] = ()
    _publish_cache: dict[str, bool] = field(default_factory=dict, repr=False)
    _receive_cache: dict[str, bool] = field(default_factory=dict, repr=False)

    def may_publish(self, topic: str) -> bool:
        decision = self._publish_cache.get(topic)
        if decision is None:
            decision = _allowed(topic, self.publish, self.deny)
            _remember(self._publish_cache, topic, decision)
        return decision

    def may_receive(self, topic: str) -> bool:
        decision = self._receive_cache.get(topic)
        if decision is None:
            decision = _allowed(topic, self.subscribe, self.deny)
            _remember(self._receive_cache, topic, decision)
        return decision

    def may_subscribe(self, topic_filter: str) -> bool:
        # A filter that merely overlaps a denied area is accepted: receive checks filter those topics.
        if any(covers(denied, topic_filter) for denied in self.deny):
            return False
        return any(covers(pattern, topic_filter) for pattern in self.subscribe)


def _allowed(topic: str, allow: Iterable[str], deny: Iterable[str]) -> bool:
    return not any(matches(topic, d) for d in deny) and any(matches(topic, a) for a in allow)


def _remember(cache: dict[str, bool], topic: str, decision: bool) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[topic] = decision


class ConfigUserAccess:
    """Users and ACLs from the `mqtt` section of the config file."""

    def __init__(self, users: Iterable[MqttUser], allow_anonymous: bool = False) -> None:
        self._users = {user.username: user for user in users}
        self._allow_anonymous = allow_anonymous
        self._principals: dict[str, AclPrincipal] = {}

    async def authenticate(
        self, username: str | None, password: str | None, remote: str | None = None
    ) -> Principal | None:
        if username is None:
            if not self._allow_anonymous:
                return None
            return AclPrincipal("anonymous", publish=("#",), subscribe=("#",))
        user = self._users.get(username)
        if user is None or password is None:
            return None
        if not hmac.compare_digest(user.password.encode(), password.encode()):
            return None
        principal = self._principals.get(username)
        if principal is None:
            principal = AclPrincipal(username, user.publish, user.subscribe, user.deny)
            self._principals[username] = principal
        return principal
