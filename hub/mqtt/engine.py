"""amqtt's Broker with the hub's corrections: one documented place for every change of behaviour.

amqtt 0.12.1 keeps the session table, subscription table, retained messages, CONNECT
validation and session expiry here. What `HubBroker` changes, and why:

Defects (each has a regression test in tests/mqtt/test_amqtt_fixes.py):
1. Retained messages leaked past the ACL: on every CONNECT amqtt re-sent the retained
   messages of every filter in the *broker-wide* subscription table, unchecked. Retained
   messages are now sent only for the client's own new subscription, each one checked
   against the client's receive rights (`_publish_retained_messages_for_subscription`).
2. Keep-alive was never enforced (`handle_read_timeout` did nothing). A client silent for
   1.5 x its keep-alive is disconnected and its will is sent (`ClientConnection`).
   `timeout_disconnect_delay` stays out of it: the grace is the spec's 1.5 factor.
3. A PUBLISH to a `$...`, wildcard or empty topic ended the session's message loop without
   closing it (a zombie that never sent its will). It is now a protocol error that closes
   the connection and sends the will.
4. Unacknowledged QoS 1 messages were discarded when a connection closed. They stay in the
   session's outbox (`hub.mqtt.outbox`) and are resent, with DUP, on reconnect.
5. Anonymous persistent sessions were never kept, and a persistent reconnect that took over
   a still-connected clean session kept the old clean-session flag (so the session was
   deleted later). The flag is updated on take-over (`_take_session`) and
   `is_anonymous` is never set, so every clean-session-false session is kept alike. The
   take-over also no longer lets the old connection's exit mark the new one disconnected.
6. Refused subscriptions: the ACL (`hub.mqtt.access`) has deny rules, and a refused filter
   is answered with SUBACK 0x80.

Hot path (amqtt spends ~0.2 ms of event-loop CPU per message):
- PUBLISH/PUBACK/PINGREQ are handled inline by `ClientConnection` (no task per packet, no
  per-delivery task waiting for its PUBACK, no plugin events per message).
- Routing is synchronous (`route`): subscribers per topic are cached until the
  subscription table changes, a QoS 0 packet is encoded once for all subscribers, and ACL
  decisions are cached per principal and topic (`AclPrincipal`).
- QoS 2 subscriptions are granted QoS 1 (the hub's contract uses QoS 0/1); incoming QoS 2
  PUBLISH is accepted and routed once.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from amqtt.adapters import ReaderAdapter, WriterAdapter
from amqtt.broker import Broker, RetainedApplicationMessage
from amqtt.contexts import Action, BrokerConfig
from amqtt.errors import AMQTTError, MQTTError, NoDataError
from amqtt.events import BrokerEvents
from amqtt.mqtt.connack import BAD_USERNAME_PASSWORD, NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.disconnect import DisconnectPacket
from amqtt.mqtt.subscribe import SubscribePacket
from amqtt.mqtt.unsubscribe import UnsubscribePacket
from amqtt.session import Session
from amqtt.utils import gen_client_id

from hub.mqtt.access import BrokerAccess, Principal
from hub.mqtt.connection import ClientConnection, ConnectionLimits, full_packet
from hub.mqtt.outbox import outbox_of
from hub.mqtt.stats import BrokerStats
from hub.mqtt.streams import BufferReader, PacketReader
from hub.mqtt.topics import matches
from hub.mqtt.wire import PacketTooLarge, ProtocolViolation, encode_publish

_LOGGER = logging.getLogger(__name__)
_PRINCIPAL_KEY = "bms_hub.principal"
_SUBACK_FAILURE = 0x80
_MATCH_CACHE_LIMIT = 50_000
_RESUMED_FIELDS = (
    "clean_session",
    "will_flag",
    "will_message",
    "will_topic",
    "will_qos",
    "will_retain",
    "keep_alive",
    "username",
    "password",
    "remote_address",
    "remote_port",
)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A message seen by an in-process subscriber."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    client_id: str | None  # None when the hub itself published it


LocalCallback = Callable[[InboundMessage], None]


@dataclass(frozen=True, slots=True)
class SessionChange:
    """A client's connection opened (`connected`) or ended; seen by `watch_sessions` callbacks."""

    client_id: str
    username: str | None
    connected: bool
    reason: str | None  # why it ended, when known


SessionCallback = Callable[[SessionChange], None]


def principal_of(session: Session) -> Principal | None:
    """The rights the session authenticated with."""
    return session.attributes.get(_PRINCIPAL_KEY)


class HubBroker(Broker):
    """amqtt's broker, fed by the hub's listeners, with the corrections listed above."""

    def __init__(self, config: BrokerConfig, access: BrokerAccess, limits: ConnectionLimits) -> None:
        super().__init__(config)
        self.access = access
        self.limits = limits
        self.stats = BrokerStats()
        self._match_cache: dict[str, list[tuple[Session, int]]] = {}
        self._local: list[tuple[str, LocalCallback]] = []
        self._local_cache: dict[str, list[tuple[str, LocalCallback]]] = {}  # topic -> its local entries
        self._session_watchers: list[SessionCallback] = []

    # -- connecting ----------------------------------------------------------------------

    async def _client_connected(
        self, listener_name: str, reader: ReaderAdapter, writer: WriterAdapter
    ) -> None:
        """Serve one connection until it ends; a misbehaving client never affects others."""
        self.stats.connections_total += 1
        try:
            await self._connect_and_serve(reader, writer)  # type: ignore[arg-type]
        finally:
            await _close_quietly(writer)

    async def _connect_and_serve(self, reader: PacketReader, writer: WriterAdapter) -> None:
        peer = writer.get_peer_info()
        try:
            handler, incoming = await self._read_connect(reader, writer)
        except TimeoutError:
            self.stats.connect_timeouts += 1
            _LOGGER.warning(
                "MQTT connection from %s sent no CONNECT within %gs", peer, self.limits.connect_timeout
            )
            return
        except (ProtocolViolation, MQTTError, AMQTTError, NoDataError) as err:
            if isinstance(err, PacketTooLarge):
                self.stats.oversized_packets += 1
            else:
                self.stats.protocol_errors += 1
            _LOGGER.warning("MQTT connection from %s refused: %s", peer, err or type(err).__name__)
            return
        if handler is None:
            return
        try:
            await self._serve(handler, incoming, reader, writer)
        except asyncio.CancelledError:
            # The listener's task was cancelled (aiohttp cancels a handler whose peer vanished):
            # end the session as a lost connection, will included, before letting go.
            if handler.session is not None:
                await asyncio.shield(self._handle_disconnect(handler.session, handler, None))
            raise
        finally:
            await handler.stop()

    async def _read_connect(
        self, reader: PacketReader, writer: WriterAdapter
    ) -> tuple[ClientConnection | None, Session]:
        """Read the first packet, which must be a valid CONNECT within the time limit."""
        async with asyncio.timeout(self.limits.connect_timeout):
            packet = await reader.read_packet(self.limits.max_packet_size)
            if packet is None:
                return None, Session()
            first, body = packet
            if first != 0x10:
                raise ProtocolViolation(f"first packet is not CONNECT (byte 0x{first:02x})")
            connect_reader = BufferReader(full_packet(first, body))
            handler, incoming = await ClientConnection.init_from_connect(
                connect_reader, writer, self.plugins_manager
            )
            handler.bind(self, self.limits)
            return handler, incoming

    async def _serve(
        self, handler: ClientConnection, incoming: Session, reader: ReaderAdapter, writer: WriterAdapter
    ) -> None:
        """Authenticate *before* touching any existing session, then resume or replace it and serve."""
        principal = await self._authenticate_principal(incoming)
        if principal is None:
            self.stats.auth_failures += 1
            _LOGGER.warning(
                "MQTT client %r from %s refused: bad or missing credentials (user %r)",
                incoming.client_id,
                incoming.remote_address,
                incoming.username,
            )
            code = BAD_USERNAME_PASSWORD if incoming.username is not None else NOT_AUTHORIZED
            await writer.send(ConnackPacket.build(0, code).to_bytes())  # type: ignore[attr-defined]
            return
        session = await self._take_session(incoming)
        session.attributes[_PRINCIPAL_KEY] = principal
        handler.attach(session, reader, writer)
        session.transitions.connect()
        self._sessions[session.client_id] = (session, handler)  # type: ignore[index]
        # Watchers hear of the session before the client hears CONNACK: nothing it does can come first.
        self._session_changed(SessionChange(session.client_id, session.username, True, None))  # type: ignore[arg-type]
        await handler.mqtt_connack_authorize(True)
        await handler.start()
        await self.plugins_manager.fire_event(
            BrokerEvents.CLIENT_CONNECTED, client_id=session.client_id, client_session=session
        )
        await self._client_message_loop(session, handler)

    async def _take_session(self, incoming: Session) -> Session:
        """Close an older connection with the same client id, then start afresh or resume its session.

        Fix 5: a persistent resume takes the new connection's clean-session flag (and will,
        keep-alive, credentials), so a session taken over from a clean connection is kept.
        """
        if not incoming.client_id:
            incoming.client_id = gen_client_id()
        previous = self._sessions.get(incoming.client_id)
        if previous is not None and isinstance(previous[1], ClientConnection) and previous[1].is_open:
            _LOGGER.info(
                "MQTT client %s connected again: closing its previous connection", incoming.client_id
            )
            await previous[1].take_over()
        if incoming.clean_session or previous is None:
            await self._delete_session(incoming.client_id)
            incoming.parent = 0
            return incoming
        session = previous[0]
        for name in _RESUMED_FIELDS:
            setattr(session, name, getattr(incoming, name))
        if session.transitions.is_connected():
            session.transitions.disconnect()
        session.parent = 1
        return session

    async def _client_message_loop(self, client_session: Session, handler: ClientConnection) -> None:  # type: ignore[override]
        """Everything but the end of the connection is handled inline by the connection."""
        result = await handler.wait_disconnect()
        await self._handle_disconnect(client_session, handler, result)

    async def _handle_disconnect(  # type: ignore[override]
        self, client_session: Session, handler: ClientConnection, result: DisconnectPacket | None
    ) -> None:
        """Send the will after an abnormal end, unless this connection no longer owns the session."""
        await handler.stop()
        owner = self._sessions.get(client_session.client_id, (None, None))[1]  # type: ignore[arg-type]
        if owner is not handler or handler.taken_over:  # replaced by a new connection, or broker shutdown
            return
        if not isinstance(result, DisconnectPacket) and client_session.will_flag:
            self._send_will(client_session)
        client_session.transitions.disconnect()
        if client_session.clean_session:
            await self._delete_session(client_session.client_id)  # type: ignore[arg-type]
        reason = handler.close_reason or ("disconnected" if isinstance(result, DisconnectPacket) else None)
        self._session_changed(
            SessionChange(client_session.client_id, client_session.username, False, reason)  # type: ignore[arg-type]
        )
        await self.plugins_manager.fire_event(
            BrokerEvents.CLIENT_DISCONNECTED,
            client_id=client_session.client_id,
            client_session=client_session,
        )

    def _send_will(self, session: Session) -> None:
        topic = session.will_topic
        if not topic or not self.may_publish(session, topic):
            return
        payload = bytes(session.will_message or b"")
        self.route(session.client_id, topic, payload, session.will_qos or 0, bool(session.will_retain))

    # -- access control ------------------------------------------------------------------

    async def _authenticate_principal(self, session: Session) -> Principal | None:
        try:
            return await self.access.authenticate(session.username, session.password, session.remote_address)
        except Exception:  # an auth backend failure must refuse the client, never hang it
            _LOGGER.exception("MQTT authentication failed with an error; refusing %s", session.client_id)
            return None

    def may_publish(self, session: Session, topic: str) -> bool:
        """Whether the session's principal may publish to `topic`."""
        principal = principal_of(session)
        return principal is not None and principal.may_publish(topic)

    async def _topic_filtering(self, session: Session, topic: str, action: Action) -> bool:
        principal = principal_of(session)
        if principal is None:
            return False
        if action == Action.SUBSCRIBE:
            return principal.may_subscribe(topic)
        if action == Action.PUBLISH:
            return principal.may_publish(topic)
        return principal.may_receive(topic)

    # -- sessions seen from inside the hub -------------------------------------------------

    def watch_sessions(self, callback: SessionCallback) -> Callable[[], None]:
        """Call `callback` when a client connects or its connection ends; returns the unwatch function."""
        self._session_watchers.append(callback)
        return lambda: self._session_watchers.remove(callback)

    def _session_changed(self, change: SessionChange) -> None:
        for callback in list(self._session_watchers):
            try:
                callback(change)
            except Exception:
                self.stats.local_callback_errors += 1
                _LOGGER.exception("MQTT session watcher failed on %s", change)

    def disconnect_user(self, username: str, reason: str) -> int:
        """Close every open connection that authenticated as `username` (its credentials were revoked)."""
        handlers = [
            handler
            for session, handler in list(self._sessions.values())
            if session.username == username and isinstance(handler, ClientConnection) and handler.is_open
        ]
        for handler in handlers:
            handler.abort(reason)
        return len(handlers)

    # -- subscriptions -------------------------------------------------------------------

    async def handle_subscribe(self, handler: ClientConnection, packet: SubscribePacket) -> None:
        """Grant or refuse (0x80) each filter, acknowledge, then send matching retained messages."""
        session: Session = handler.session  # type: ignore[assignment]
        topics = packet.payload.topics  # type: ignore[union-attr]
        codes = [await self.add_subscription(topic, session) for topic in topics]
        await handler.mqtt_acknowledge_subscription(packet.variable_header.packet_id, codes)  # type: ignore[union-attr]
        for (topic_filter, _), code in zip(topics, codes, strict=True):
            if code == _SUBACK_FAILURE:
                _LOGGER.warning("MQTT client %s may not subscribe to %s", session.client_id, topic_filter)
                continue
            await self._publish_retained_messages_for_subscription((topic_filter, code), session)

    async def handle_unsubscribe(self, handler: ClientConnection, packet: UnsubscribePacket) -> None:
        """Remove the filters and acknowledge."""
        for topic_filter in packet.payload.topics:  # type: ignore[union-attr]
            self._del_subscription(topic_filter, handler.session)  # type: ignore[arg-type]
        await handler.mqtt_acknowledge_unsubscription(packet.variable_header.packet_id)  # type: ignore[union-attr]

    async def add_subscription(self, subscription: tuple[str, int], session: Session) -> int:
        """amqtt's checks, QoS capped at 1, and a repeated filter replaces the old one."""
        topic_filter, qos = subscription
        self._del_subscription(topic_filter, session)
        return await super().add_subscription((topic_filter, min(qos, 1)), session)

    def _del_subscription(self, a_filter: str, session: Session) -> int:
        self._match_cache.clear()
        return super()._del_subscription(a_filter, session)

    async def _del_all_subscriptions(self, session: Session) -> None:
        self._match_cache.clear()
        await super()._del_all_subscriptions(session)

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Session
    ) -> None:
        """Fix 1: only this subscription's retained messages, each checked against receive rights."""
        topic_filter, granted = subscription
        handler = self._sessions.get(session.client_id, (None, None))[1]  # type: ignore[arg-type]
        principal = principal_of(session)
        if not isinstance(handler, ClientConnection) or principal is None:
            return
        for topic, retained in list(self._retained_messages.items()):
            if matches(topic, topic_filter) and principal.may_receive(topic):
                qos = min(granted, retained.qos or 0)
                self._deliver(handler, session, topic.encode(), bytes(retained.data), qos, retain=True)

    # -- routing -------------------------------------------------------------------------

    def subscribe_local(self, topic_filter: str, callback: LocalCallback) -> Callable[[], None]:
        """Call `callback` for every message on `topic_filter`; returns the unsubscribe function."""
        entry = (topic_filter, callback)
        self._local.append(entry)
        self._local_cache.clear()

        def unsubscribe() -> None:
            self._local.remove(entry)
            self._local_cache.clear()

        return unsubscribe

    def route(self, source_id: str | None, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        """Deliver a message to every subscriber allowed to receive it, and retain it if asked."""
        if retain:
            self._store_retained(topic, payload, qos)
        targets = self._match_cache.get(topic)
        if targets is None:
            targets = self._targets(topic)
        if targets:
            topic_bytes = topic.encode()
            qos0_packet: bytes | None = None
            sessions = self._sessions
            for session, granted in targets:
                principal = session.attributes.get(_PRINCIPAL_KEY)
                if principal is None or not principal.may_receive(topic):
                    continue
                effective = qos if qos < granted else granted
                handler = sessions.get(session.client_id, (None, None))[1]  # type: ignore[arg-type]
                if effective == 0:
                    if isinstance(handler, ClientConnection) and handler.is_open:
                        if qos0_packet is None:
                            qos0_packet = encode_publish(topic_bytes, payload, 0, False)
                        handler.send_qos0(qos0_packet)
                else:
                    self._deliver(handler, session, topic_bytes, payload, 1, retain=False)
        if self._local:
            self._route_local(InboundMessage(topic, payload, qos, retain, source_id))

    def _deliver(
        self, handler: Any, session: Session, topic: bytes, payload: bytes, qos: int, retain: bool
    ) -> None:
        """Send to a connected client, or keep QoS 1 for an offline persistent session (bounded)."""
        if isinstance(handler, ClientConnection) and handler.is_open:
            if qos == 0:
                handler.send_qos0(encode_publish(topic, payload, 0, retain))
            else:
                handler.send_qos1(topic, payload, retain)
            return
        if qos == 0 or session.clean_session:
            return
        outbox = outbox_of(session)
        if len(outbox) >= self.limits.qos1_backlog_limit:
            outbox.drop_oldest()
            self.stats.qos1_dropped_offline += 1
        outbox.add(topic, payload, retain)

    def _targets(self, topic: str) -> list[tuple[Session, int]]:
        """Subscribers of `topic`, one entry per session with its highest granted QoS."""
        best: dict[str | None, tuple[Session, int]] = {}
        for topic_filter, subscriptions in self._subscriptions.items():
            if matches(topic, topic_filter):
                for session, granted in subscriptions:
                    known = best.get(session.client_id)
                    if known is None or known[1] < granted:
                        best[session.client_id] = (session, granted)
        targets = list(best.values())
        if len(self._match_cache) >= _MATCH_CACHE_LIMIT:
            self._match_cache.clear()
        self._match_cache[topic] = targets
        return targets

    def _route_local(self, message: InboundMessage) -> None:
        entries = self._local_cache.get(message.topic)
        if entries is None:
            entries = [entry for entry in self._local if matches(message.topic, entry[0])]
            if len(self._local_cache) >= _MATCH_CACHE_LIMIT:
                self._local_cache.clear()
            self._local_cache[message.topic] = entries
        for topic_filter, callback in entries:
            try:
                callback(message)
            except Exception:
                self.stats.local_callback_errors += 1
                _LOGGER.exception("In-process MQTT subscriber for %s failed", topic_filter)

    def _store_retained(self, topic: str, payload: bytes, qos: int) -> None:
        if payload:
            self._retained_messages[topic] = RetainedApplicationMessage(None, topic, payload, qos)
        else:  # [MQTT-3.3.1-10]: an empty retained message clears the topic
            self._retained_messages.pop(topic, None)

    async def _broadcast_message(
        self,
        session: Session | None,
        topic: str | None,
        data: bytes | bytearray | None,
        force_qos: int | None = None,
    ) -> None:
        """amqtt's queue-and-task broadcast replaced by direct routing."""
        if topic:
            self.route(
                session.client_id if session else None, topic, bytes(data or b""), force_qos or 0, False
            )

    async def retain_message(
        self,
        source_session: Session | None,
        topic_name: str | None,
        data: bytes | bytearray | None,
        qos: int | None = None,
    ) -> None:
        if topic_name:
            self._store_retained(topic_name, bytes(data or b""), qos or 0)

    @property
    def connected_clients(self) -> int:
        """Sessions with an open connection."""
        return sum(
            1
            for _, handler in self._sessions.values()
            if isinstance(handler, ClientConnection) and handler.is_open
        )

    @property
    def retained_count(self) -> int:
        """Topics holding a retained message."""
        return len(self._retained_messages)


async def _close_quietly(writer: WriterAdapter) -> None:
    try:
        await writer.close()
    except Exception:  # the peer may already be gone
        _LOGGER.debug("closing a refused MQTT connection failed", exc_info=True)
