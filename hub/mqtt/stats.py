"""Broker counters, shown in /api/health and the heartbeat."""

from dataclasses import asdict, dataclass


@dataclass
class BrokerStats:
    """Monotonic counters since start; mutated in place on the hot path."""

    connections_total: int = 0
    auth_failures: int = 0
    connect_timeouts: int = 0
    protocol_errors: int = 0
    oversized_packets: int = 0
    keepalive_timeouts: int = 0
    messages_in: int = 0
    messages_out: int = 0
    publish_refused: int = 0
    qos0_dropped: int = 0
    qos1_dropped_offline: int = 0
    backlog_disconnects: int = 0
    local_callback_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        """Counters as plain JSON-ready values."""
        return asdict(self)
