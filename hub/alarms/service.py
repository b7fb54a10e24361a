"""AlarmService: sources in, transitions out — history, projection, MQTT and notifications.

Every call is synchronous and cheap (the flow engine and bus handlers call it inline): a transition
changes the in-memory projection at once and is appended to the history by a supervised task.
Delays, stale points and shelving windows are judged on `tick()`, driven by a task or, in tests,
by hand after moving a controlled clock.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from hub.alarms.history import AlarmHistory
from hub.alarms.model import (
    Alarm,
    AlarmEvent,
    AlarmState,
    EventKind,
    FlowErrored,
    FlowRecovered,
    Severity,
    SourceKind,
)
from hub.alarms.notify import Delivery, Notice, email, publish_mqtt, webhook
from hub.alarms.projection import Projection
from hub.alarms.settings import AlarmsConfig
from hub.alarms.sources import Condition, LimitWatch, StaleWatch, limit_watches
from hub.bus import Bus
from hub.commands import AuditEvent, WriteOutcome
from hub.health import ComponentHealth, HealthStatus
from hub.mqtt.broker import EmbeddedBroker
from hub.mqtt_api.alerts import AlertAction, AlertVerb
from hub.points import (
    DeviceAdded,
    DeviceStatus,
    DeviceStatusChanged,
    PointAdded,
    PointRegistry,
    PointUpdate,
)
from hub.store_tables import Database
from hub.supervisor import Supervisor

_LOGGER = logging.getLogger(__name__)

_OFFLINE = frozenset({DeviceStatus.OFFLINE, DeviceStatus.ERROR})


@dataclass(frozen=True)
class AlarmChanged:
    """Published on the bus after every alarm transition (live views follow it)."""

    event: AlarmEvent
    alarm: Alarm


class UnknownAlarm(KeyError):
    """No alarm with this id was ever raised."""


class AlarmService:
    """The hub's alarms: raised by sources, acted on by people, kept as an append-only history."""

    def __init__(
        self,
        config: AlarmsConfig,
        *,
        bus: Bus,
        points: PointRegistry,
        db: Database,
        broker: EmbeddedBroker,
        supervisor: Supervisor,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._bus = bus
        self._points = points
        self._broker = broker
        self._supervisor = supervisor
        self._clock = clock
        self._history = AlarmHistory(db)
        self._projection = Projection()
        self._prefix: str | None = None  # MQTT topic prefix, once started
        self._session: aiohttp.ClientSession | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._limits: dict[str, list[LimitWatch]] = limit_watches(
            config.limits, points, self._report, self._is_active
        )
        self._stale: StaleWatch | None = None
        limit = config.notifications.rate_limit
        deliveries = (
            webhook(config.notifications.webhook, limit, self._http),
            email(config.notifications.email, limit),
        )
        self.deliveries: tuple[Delivery, ...] = tuple(d for d in deliveries if d is not None)

    # -- life cycle ---------------------------------------------------------------------

    async def start(self, topic_prefix: str) -> None:
        """Rebuild the projection from the stored history, then follow the bus and run the tasks."""
        events = await self._history.load()
        self._projection = Projection.replay([*events, *self._history.queued()])
        self._prefix = topic_prefix
        now = self._clock()
        stale = self.config.stale
        if stale.enabled:
            factor = stale.factor or self._points.stale_factor
            suppressed = self._device_offline if self.config.device_offline.enabled else None
            self._stale = StaleWatch(
                stale, factor, self._points, self._report, self._is_active, now, suppressed
            )
        bus = self._bus
        self._unsubscribe = [
            bus.subscribe(PointUpdate, self._on_update),
            bus.subscribe(DeviceStatusChanged, self._on_device),
            bus.subscribe(AuditEvent, self._on_audit),
            bus.subscribe(FlowErrored, self._on_flow_error),
            bus.subscribe(FlowRecovered, self._on_flow_recovered),
            bus.subscribe(AlertAction, self._on_alert_action),
        ]
        if self._stale is not None:  # integrations register their points after the alarms start
            registrations = self._points.bus
            self._unsubscribe += [
                registrations.subscribe(PointAdded, self._stale.point_added),
                registrations.subscribe(DeviceAdded, self._stale.device_added),
            ]
        self._supervisor.spawn("alarms.history", self._history.run)
        self._supervisor.spawn("alarms.tick", self._run_ticks)
        for delivery in self.deliveries:
            self._supervisor.spawn(f"alarms.{delivery.name}", delivery.run)
        _LOGGER.info("alarms: %d rebuilt from %d events", len(self._projection.alarms), len(events))

    async def stop(self) -> None:
        """Stop following the bus and write what is still queued."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        for name in ("alarms.tick", "alarms.history", *(f"alarms.{d.name}" for d in self.deliveries)):
            await self._supervisor.stop_task(name)
        try:
            await self._history.drain()
        except Exception:
            _LOGGER.exception("alarms: %d events could not be written on stop", self._history.pending)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _run_ticks(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_interval)
            self.tick()

    def tick(self) -> None:
        """Judge delays and stale points now (the task calls it every `tick_interval`)."""
        now = self._clock()
        for watches in self._limits.values():
            for watch in watches:
                watch.tick(now)
        if self._stale is not None:
            self._stale.tick(now)

    # -- what people and flows do -------------------------------------------------------

    def acknowledge(
        self, alarm_id: str, actor: str, comment: str = "", dedupe_key: str | None = None
    ) -> Alarm:
        """Acknowledge an alarm (unchanged when there is nothing to acknowledge); UnknownAlarm if none."""
        return self._act(EventKind.ACKNOWLEDGED, alarm_id, actor, comment, dedupe_key=dedupe_key)

    def resolve(self, alarm_id: str, actor: str, comment: str = "", dedupe_key: str | None = None) -> Alarm:
        """Return an alarm to normal; a source whose condition still holds raises it again."""
        return self._act(EventKind.RESOLVED, alarm_id, actor, comment, dedupe_key=dedupe_key)

    def shelve(self, alarm_id: str, until: float, reason: str, actor: str) -> Alarm:
        """Silence an alarm's notifications until `until` (UTC epoch seconds), saying why."""
        return self._act(EventKind.SHELVED, alarm_id, actor, reason, until=until)

    def unshelve(self, alarm_id: str, actor: str) -> Alarm:
        return self._act(EventKind.UNSHELVED, alarm_id, actor, "")

    def raise_flow_alarm(self, flow_id: str, alarm_id: str, severity: Severity, message: str) -> None:
        """The flow alarm node: raise (or keep raised) the flow's alarm `alarm_id`."""
        condition = Condition(
            flow_alarm_id(flow_id, alarm_id), True, SourceKind.FLOW, flow_id, severity, message
        )
        self._report(condition)

    def clear_flow_alarm(self, flow_id: str, alarm_id: str) -> None:
        """The flow alarm node: clear the flow's alarm `alarm_id` if it is raised."""
        self._clear(flow_alarm_id(flow_id, alarm_id))

    def _act(
        self,
        kind: EventKind,
        alarm_id: str,
        actor: str,
        text: str,
        until: float | None = None,
        dedupe_key: str | None = None,
    ) -> Alarm:
        if self._projection.get(alarm_id) is None:
            raise UnknownAlarm(alarm_id)
        event = AlarmEvent(
            kind, alarm_id, self._clock(), actor, message=text, until=until, dedupe_key=dedupe_key
        )
        self._record(event)
        alarm = self._projection.get(alarm_id)
        assert alarm is not None
        return alarm

    # -- reading ------------------------------------------------------------------------

    def now(self) -> float:
        return self._clock()

    def get(self, alarm_id: str) -> Alarm | None:
        return self._projection.get(alarm_id)

    def alarms(self) -> list[Alarm]:
        """Every alarm ever raised, in its latest state."""
        return list(self._projection.alarms.values())

    def needs_history(self, alarm_id: str) -> bool:
        """Whether the alarm's events must outlive the event retention: it is open or shelved."""
        alarm = self._projection.get(alarm_id)
        return alarm is not None and (alarm.state is not AlarmState.NORMAL or alarm.shelved_until is not None)

    async def history(self, alarm_id: str) -> list[AlarmEvent]:
        """One alarm's transitions, oldest first."""
        return await self._history.of_alarm(alarm_id)

    def health(self) -> ComponentHealth:
        """Alarm figures and the notification counters; degraded while a channel fails or events are lost."""
        alarms = self._projection.alarms.values()
        channels = {d.name: {**d.counters, "last_error": d.last_error} for d in self.deliveries}
        failing = any(d.last_error for d in self.deliveries) or self._history.dropped
        detail = {
            "active": sum(1 for a in alarms if a.state.active),
            "unacknowledged": sum(1 for a in alarms if a.state.unacked),
            "events_written": self._history.written,
            "events_queued": self._history.pending,
            "events_dropped": self._history.dropped,
            "stale_suppressed": len(self._stale.suppressed) if self._stale is not None else 0,
            "notifications": channels,
        }
        return ComponentHealth(HealthStatus.DEGRADED if failing else HealthStatus.OK, detail)

    # -- sources ------------------------------------------------------------------------

    def _is_active(self, alarm_id: str) -> bool:
        alarm = self._projection.get(alarm_id)
        return alarm is not None and alarm.state.active

    def _report(self, condition: Condition) -> None:
        """Turn a source's verdict into a RAISED or CLEARED event when it changes the alarm."""
        if condition.active == self._is_active(condition.alarm_id):
            return
        if not condition.active:
            self._clear(condition.alarm_id, condition.value)
            return
        c = condition
        event = AlarmEvent(
            EventKind.RAISED,
            c.alarm_id,
            self._clock(),
            "system",
            c.source,
            c.subject,
            c.severity,
            c.message,
            c.value,
        )
        self._record(event)

    def _clear(self, alarm_id: str, value: object = None) -> None:
        if self._is_active(alarm_id):
            self._record(AlarmEvent(EventKind.CLEARED, alarm_id, self._clock(), value=value))

    def _record(self, event: AlarmEvent) -> None:
        alarm = self._projection.apply(event)
        if alarm is None:
            return  # a duplicate or a no-op: nothing to keep or tell
        self._history.append(event)
        notice = Notice(event, alarm, event.timestamp)
        if self._prefix is not None:
            publish_mqtt(self._broker, self._prefix, notice)
        for delivery in self.deliveries:
            delivery.offer(notice)
        self._bus.publish(AlarmChanged(event, alarm))

    def _on_update(self, update: PointUpdate) -> None:
        watches = self._limits.get(update.point.id)
        if watches:
            now = self._clock()
            for watch in watches:
                watch.observe(update.sample, now)

    def _on_device(self, changed: DeviceStatusChanged) -> None:
        rule, device, state = self.config.device_offline, changed.device, changed.state
        if not rule.enabled or state.status is DeviceStatus.UNKNOWN:
            return
        detail = f": {state.last_error}" if state.last_error else ""
        message = f"device {device.name} ({device.id}) is {state.status}{detail}"
        alarm_id = f"{SourceKind.DEVICE_OFFLINE}:{device.id}"
        active = state.status in _OFFLINE
        self._report(
            Condition(alarm_id, active, SourceKind.DEVICE_OFFLINE, device.id, rule.severity, message)
        )

    def _device_offline(self, point_id: str) -> bool:
        """Whether the point's device is offline or in error (its stale alarm is then suppressed)."""
        points = self._points
        try:
            return points.device_state(points.point(point_id).device_id).status in _OFFLINE
        except KeyError:  # no longer registered
            return False

    def _on_audit(self, audit: AuditEvent) -> None:
        rule = self.config.write_failed
        if not rule.enabled or audit.outcome not in (WriteOutcome.FAILED, WriteOutcome.WRITTEN):
            return
        alarm_id = f"{SourceKind.WRITE_FAILED}:{audit.point_id}"
        message = f"writing {audit.new!r} to {audit.point_id} failed: {audit.reason or 'no reason given'}"
        active = audit.outcome is WriteOutcome.FAILED
        condition = Condition(
            alarm_id, active, SourceKind.WRITE_FAILED, audit.point_id, rule.severity, message, audit.new
        )
        self._report(condition)

    def _on_flow_error(self, errored: FlowErrored) -> None:
        rule = self.config.flow_error
        if rule.enabled:
            message = f"flow {errored.flow_id} failed: {errored.error}"
            alarm_id = f"{SourceKind.FLOW_ERROR}:{errored.flow_id}"
            self._report(
                Condition(alarm_id, True, SourceKind.FLOW_ERROR, errored.flow_id, rule.severity, message)
            )

    def _on_flow_recovered(self, recovered: FlowRecovered) -> None:
        self._clear(f"{SourceKind.FLOW_ERROR}:{recovered.flow_id}")

    def _on_alert_action(self, action: AlertAction) -> None:
        """The site's MQTT alert-management topics act like REST; a resent command_id is applied once."""
        act = self.acknowledge if action.verb is AlertVerb.ACKNOWLEDGE else self.resolve
        dedupe = f"mqtt:{action.verb}:{action.command_id}" if action.command_id else None
        try:
            act(action.alert_id, action.user or "mqtt", action.comment or "", dedupe_key=dedupe)
        except UnknownAlarm:
            _LOGGER.warning("alert action %s on unknown alarm %r ignored", action.verb, action.alert_id)


def flow_alarm_id(flow_id: str, alarm_id: str) -> str:
    return f"{SourceKind.FLOW}:{flow_id}:{alarm_id}"
