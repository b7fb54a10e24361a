"""Login throttling: after repeated failures a user name is locked for a while, whatever the password."""

import time
from collections import deque
from collections.abc import Callable

_TRACKED_LIMIT = 10_000  # user names with recent failures kept track of before old ones are dropped


class Lockout:
    """Counts failed logins per user name within a window; too many lock the name for a duration."""

    def __init__(
        self, failures: int, window: float, duration: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._failures = failures
        self._window = window
        self._duration = duration
        self._clock = clock
        self._recent: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    def locked_for(self, name: str) -> float:
        """Seconds until `name` may try again; 0 when it is not locked."""
        until = self._locked_until.get(name.casefold())
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            del self._locked_until[name.casefold()]
            return 0.0
        return left

    def failed(self, name: str) -> bool:
        """Record a failure; True when it locks the name."""
        key = name.casefold()
        now = self._clock()
        if len(self._recent) >= _TRACKED_LIMIT:  # many names tried: forget those with no recent failure
            self._recent = {k: v for k, v in self._recent.items() if v and v[-1] > now - self._window}
        recent = self._recent.setdefault(key, deque())
        recent.append(now)
        while recent and recent[0] <= now - self._window:
            recent.popleft()
        if len(recent) < self._failures:
            return False
        del self._recent[key]
        self._locked_until[key] = now + self._duration
        return True

    def succeeded(self, name: str) -> None:
        self._recent.pop(name.casefold(), None)
