"""Login throttling: after repeated failures a user name is locked for a while, whatever the password.

Failures count per user name *and address*: someone guessing from one laptop locks only that
laptop out of the name, not the operator at the front-end PC (a per-name lock would let anyone on
the network keep the admin out with five wrong passwords every quarter hour). Guessing spread over
many addresses is still stopped: `NAME_FACTOR` times as many failures of one name, from anywhere,
lock the name for every address.
"""

import logging
import time
from collections import deque
from collections.abc import Callable
from enum import Enum

_LOGGER = logging.getLogger(__name__)

_TRACKED_LIMIT = 10_000  # names and addresses with recent failures kept track of before old ones are dropped
NAME_FACTOR = 10  # failures of one name from any address, in multiples of the per-address count


class Locked(Enum):
    """What a failure locked."""

    NOTHING = "nothing"
    ADDRESS = "address"  # the name, for the address the failures came from
    NAME = "name"  # the name, for every address


class _Counter:
    """Failures per key within a window; `limit` of them lock the key for a duration."""

    def __init__(self, limit: int, window: float, duration: float) -> None:
        self._limit = limit
        self._window = window
        self._duration = duration
        self._recent: dict[object, deque[float]] = {}
        self._locked_until: dict[object, float] = {}

    def locked_for(self, key: object, now: float) -> float:
        until = self._locked_until.get(key)
        if until is None:
            return 0.0
        if until <= now:
            del self._locked_until[key]
            return 0.0
        return until - now

    def failed(self, key: object, now: float) -> bool:
        """Record a failure; True when it locks the key."""
        if len(self._recent) >= _TRACKED_LIMIT:  # many tried: forget those with no recent failure
            self._recent = {k: v for k, v in self._recent.items() if v and v[-1] > now - self._window}
        recent = self._recent.setdefault(key, deque())
        recent.append(now)
        while recent and recent[0] <= now - self._window:
            recent.popleft()
        if len(recent) < self._limit:
            return False
        del self._recent[key]
        self._locked_until[key] = now + self._duration
        return True

    def succeeded(self, key: object) -> None:
        self._recent.pop(key, None)


class Lockout:
    """`failures` failed logins of a name from one address within `window` lock the name for that
    address for `duration`; `NAME_FACTOR` times as many from any addresses lock it for all."""

    def __init__(
        self, failures: int, window: float, duration: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._by_address = _Counter(failures, window, duration)
        self._by_name = _Counter(failures * NAME_FACTOR, window, duration)
        self._clock = clock

    def locked_for(self, name: str, address: str | None) -> float:
        """Seconds until `name` may try again from `address`; 0 when it is not locked."""
        now = self._clock()
        key = name.casefold()
        return max(self._by_name.locked_for(key, now), self._by_address.locked_for((key, address), now))

    def failed(self, name: str, address: str | None) -> Locked:
        """Record a failure of `name` from `address` (None: unknown); what it locked, if anything."""
        now = self._clock()
        key = name.casefold()
        if self._by_name.failed(key, now):
            return Locked.NAME
        return Locked.ADDRESS if self._by_address.failed((key, address), now) else Locked.NOTHING

    def succeeded(self, name: str, address: str | None) -> None:
        """A right password from `address`: its failures are forgotten (those from elsewhere still count)."""
        self._by_address.succeeded((name.casefold(), address))


def log_lockout(name: str, address: str | None, locked: Locked) -> None:
    """Tell the support team what a failure locked (web, REST and MQTT logins alike)."""
    if locked is Locked.NAME:
        _LOGGER.warning(
            "user name %r locked for every address after repeated failed logins from several (last from %s)",
            name, address,
        )  # fmt: skip
    elif locked is Locked.ADDRESS:
        _LOGGER.warning("user name %r locked for %s after repeated failed logins", name, address)
