"""The in-process event bus: typed Python objects, delivered synchronously to subscribers.

JSON is made only at the edges (MQTT, HTTP); inside the hub, services exchange frozen
dataclasses. Handlers run inline and must be quick; a handler that needs to do I/O hands the
event to its own bounded queue and works in a supervised task.
"""

import logging
from collections.abc import Callable
from typing import Any, TypeVar

_LOGGER = logging.getLogger(__name__)

E = TypeVar("E")


class Bus:
    """Publish an event object; every handler subscribed to its class (or a base class) gets it."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[Any], None]]] = {}
        self.handler_errors = 0

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        """Call `handler` for every event of `event_type`; returns the unsubscribe function."""
        handlers = self._handlers.setdefault(event_type, [])
        handlers.append(handler)
        return lambda: handlers.remove(handler)

    def publish(self, event: object) -> None:
        """Deliver `event` now; a failing handler is logged and counted, the others still run."""
        for cls in type(event).__mro__:
            for handler in tuple(self._handlers.get(cls, ())):
                try:
                    handler(event)
                except Exception:
                    self.handler_errors += 1
                    _LOGGER.exception("bus handler %r failed on %s", handler, type(event).__name__)
