"""Per-connection figures for its status card: messages today, last message, uptime, errors in 24 hours."""

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

DAY_S = 86_400.0


@dataclass(frozen=True)
class StatsView:
    messages_today: int  # since 00:00 UTC
    readings_today: int
    last_message_at: float | None
    connected: bool
    connected_since: float | None
    uptime_s: float | None  # of the current MQTT session
    errors_24h: int  # validation failures and errors in the last 24 hours
    rejected_total: int  # messages dropped as invalid since the hub started


class ConnectionStats:
    """Counters of one connection, on an injectable clock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._day = self._today()
        self._messages = 0
        self._readings = 0
        self._last_message: float | None = None
        self._connected_since: float | None = None
        self._sessions = 0
        self._errors: deque[float] = deque()
        self._rejected = 0

    def _today(self) -> int:
        return int(self._clock() // DAY_S)

    def _roll(self) -> None:
        day = self._today()
        if day != self._day:
            self._day, self._messages, self._readings = day, 0, 0

    def message(self, readings: int) -> None:
        self._roll()
        self._messages += 1
        self._readings += readings
        self._last_message = self._clock()

    def error(self, rejected: bool = False) -> None:
        """An error or validation failure; `rejected` when it dropped a message."""
        self._errors.append(self._clock())
        self._rejected += rejected

    def connected(self) -> None:
        self._sessions += 1
        if self._connected_since is None:
            self._connected_since = self._clock()

    def disconnected(self) -> None:
        self._sessions = max(0, self._sessions - 1)
        if self._sessions == 0:
            self._connected_since = None

    def view(self) -> StatsView:
        self._roll()
        now = self._clock()
        while self._errors and self._errors[0] <= now - DAY_S:
            self._errors.popleft()
        since = self._connected_since
        return StatsView(
            messages_today=self._messages,
            readings_today=self._readings,
            last_message_at=self._last_message,
            connected=since is not None,
            connected_since=since,
            uptime_s=None if since is None else now - since,
            errors_24h=len(self._errors),
            rejected_total=self._rejected,
        )
