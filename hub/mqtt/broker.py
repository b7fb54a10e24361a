"""The embedded broker as the rest of the hub sees it: listeners, in-process publish/subscribe, health.

amqtt runs in the hub's event loop; MQTT over WebSocket arrives on the HTTP port at `/mqtt`
(aiohttp hands the socket to amqtt's external-listener API) and, when enabled, plain MQTT on
a TCP listener that binds to loopback by default.
"""

import asyncio
import logging
from collections.abc import Callable

from aiohttp import WSCloseCode, web
from amqtt.contexts import BrokerConfig

from hub.config import MqttConfig
from hub.health import ComponentHealth, HealthStatus
from hub.mqtt.access import BrokerAccess
from hub.mqtt.connection import ConnectionLimits
from hub.mqtt.engine import HubBroker, InboundMessage
from hub.mqtt.streams import TcpReader, TcpWriter, WebSocketReader, WebSocketWriter
from hub.mqtt.topics import topic_name_problem

_LOGGER = logging.getLogger(__name__)
_WS_LISTENER = "ws"
_TCP_LISTENER = "tcp"
# Persistent sessions of clients that never come back are forgotten after a week.
_SESSION_EXPIRY_S = 7 * 24 * 3600
# A WebSocket frame may carry several packets; allow some room above one packet.
_WS_FRAME_SLACK = 64 * 1024


def limits_from_config(config: MqttConfig) -> ConnectionLimits:
    """Per-connection bounds from the `mqtt` config section."""
    return ConnectionLimits(
        max_packet_size=config.max_packet_size,
        connect_timeout=config.connect_timeout,
        queue_limit=config.client_queue_limit,
        qos1_backlog_limit=config.qos1_backlog_limit,
    )


class EmbeddedBroker:
    """Owns the amqtt broker and its listeners for the life of the hub."""

    def __init__(self, config: MqttConfig, access: BrokerAccess) -> None:
        self._config = config
        self._access = access
        self._limits = limits_from_config(config)
        self._broker: HubBroker | None = None
        self._tcp_server: asyncio.Server | None = None
        self.tcp_port: int | None = None

    @property
    def broker(self) -> HubBroker:
        """The running broker; only valid between start() and stop()."""
        if self._broker is None:
            raise RuntimeError("the broker is not running")
        return self._broker

    async def start(self) -> None:
        """Create the broker in the running loop (amqtt needs one) and open the TCP listener if enabled."""
        listeners = {
            "default": {"type": "external", "bind": "aiohttp:/mqtt"},
            _WS_LISTENER: {"type": "external", "bind": "aiohttp:/mqtt"},
            _TCP_LISTENER: {"type": "external", "bind": "asyncio:tcp"},
        }
        config = BrokerConfig.from_dict(
            {"listeners": listeners, "plugins": {}, "session_expiry_interval": _SESSION_EXPIRY_S}
        )
        self._broker = HubBroker(config, self._access, self._limits)
        await self._broker.start()
        tcp = self._config.tcp
        if tcp.enabled:
            try:
                self._tcp_server = await asyncio.start_server(self._serve_tcp, tcp.host, tcp.port)
            except OSError as err:
                await self._broker.shutdown()
                raise OSError(
                    err.errno, f"MQTT TCP listener cannot bind {tcp.host}:{tcp.port}: {err.strerror}"
                ) from err
            self.tcp_port = self._tcp_server.sockets[0].getsockname()[1]
            _LOGGER.info("MQTT TCP listener on %s:%s", tcp.host, self.tcp_port)

    async def stop(self) -> None:
        """Disconnect every client and stop the broker."""
        if self._tcp_server is not None:
            self._tcp_server.close()
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None
        if self._tcp_server is not None:
            await self._tcp_server.wait_closed()
            self._tcp_server = None

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for `/mqtt`: MQTT over WebSocket, subprotocol `mqtt`."""
        ws = web.WebSocketResponse(
            protocols=("mqtt",), max_msg_size=self._limits.max_packet_size + _WS_FRAME_SLACK, compress=False
        )
        await ws.prepare(request)
        if ws.ws_protocol != "mqtt":
            _LOGGER.warning("WebSocket client %s did not ask for the mqtt subprotocol", request.remote)
            await ws.close(code=WSCloseCode.PROTOCOL_ERROR, message=b"subprotocol 'mqtt' required")
            return ws
        peer = request.transport.get_extra_info("peername") if request.transport else None
        await self.broker.external_connected(WebSocketReader(ws), WebSocketWriter(ws, peer), _WS_LISTENER)
        if not ws.closed:
            await ws.close()
        return ws

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._broker is None:
            writer.close()
            return
        await self._broker.external_connected(TcpReader(reader), TcpWriter(writer), _TCP_LISTENER)

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        """Publish from inside the hub: no network client, subscribers' receive rights still apply."""
        problem = topic_name_problem(topic)
        if problem is not None:
            raise ValueError(f"cannot publish to {topic!r}: {problem}")
        self.broker.route(None, topic, payload, qos, retain)

    def subscribe(self, topic_filter: str, callback: Callable[[InboundMessage], None]) -> Callable[[], None]:
        """Receive every message on `topic_filter` in-process; returns the unsubscribe function."""
        return self.broker.subscribe_local(topic_filter, callback)

    def health(self) -> ComponentHealth:
        """Broker state and counters for /api/health."""
        if self._broker is None:
            return ComponentHealth(HealthStatus.DOWN, {"state": "stopped"})
        broker = self._broker
        detail: dict[str, object] = {
            "clients": broker.connected_clients,
            "sessions": len(broker.sessions),
            "retained_topics": broker.retained_count,
            "tcp_listener": f"{self._config.tcp.host}:{self.tcp_port}" if self.tcp_port else None,
            **broker.stats.as_dict(),
        }
        return ComponentHealth(HealthStatus.OK, detail)
