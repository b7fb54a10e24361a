"""The one write path: every write to a device (flows, UI, REST, MQTT) is checked, sent and audited here.

A request is refused, with the reason, when the point is unknown or read-only, the priority is not
1..16, the value does not suit the point's kind or limits, the point's rate limit has not elapsed or
its integration is not loaded. A dry run stops after those checks. A sent write is read back when
asked: a different value (e.g. a higher priority holds the point) leaves it WRITTEN but not verified.
Every request, refused or not, becomes one AuditEvent on the bus and one log line.
"""

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from hub.bus import Bus
from hub.integration import DEFAULT_PRIORITY, DeviceError, Integration, WriteError
from hub.points import Point, PointKind, PointRegistry, Quality, Value

_LOGGER = logging.getLogger(__name__)

MIN_PRIORITY, MAX_PRIORITY = 1, 16
_REL_TOLERANCE = 1e-6  # read-back of a number: devices store floats in 32 bits


class WriteSource(StrEnum):
    FLOW = "flow"
    UI = "ui"
    REST = "rest"
    MQTT = "mqtt"
    SYSTEM = "system"


class WriteOutcome(StrEnum):
    WRITTEN = "written"
    DRY_RUN = "dry_run"
    REFUSED = "refused"
    FAILED = "failed"


class Refusal(StrEnum):
    """Which safety rule refused a write, so callers can answer precisely (e.g. HTTP 422 vs 429)."""

    UNKNOWN_POINT = "unknown_point"
    NOT_WRITABLE = "not_writable"
    BAD_PRIORITY = "bad_priority"
    BAD_VALUE = "bad_value"  # wrong type for the point's kind, or outside its limits
    RATE_LIMITED = "rate_limited"
    NOT_LOADED = "not_loaded"  # the point's integration is not running


@dataclass(frozen=True)
class WriteRequest:
    """Write `value` to a point at `priority`; a None value relinquishes that priority."""

    point_id: str
    value: Value
    priority: int = DEFAULT_PRIORITY
    actor: str = "system"
    source: WriteSource = WriteSource.SYSTEM
    dry_run: bool = False
    verify: bool = True


@dataclass(frozen=True)
class WriteResult:
    """What happened to a write request, and why when it did not simply succeed."""

    outcome: WriteOutcome
    point_id: str
    old: Value
    new: Value
    priority: int
    reason: str | None = None
    verified: bool | None = None  # None: not read back (not asked, relinquish, dry run, or read-back failed)
    refusal: Refusal | None = None  # the rule that refused it (outcome REFUSED)


@dataclass(frozen=True)
class AuditEvent:
    """Published on the bus for every write request: who, what, old, new, priority, result, why."""

    timestamp: float
    actor: str
    source: WriteSource
    point_id: str
    old: Value
    new: Value
    priority: int
    outcome: WriteOutcome
    reason: str | None


class CommandService:
    """Applies the safety rules to each write, sends it through the point's integration, audits it."""

    def __init__(
        self,
        registry: PointRegistry,
        integrations: Callable[[str], Integration | None],
        bus: Bus,
        clock: Callable[[], float] = time.time,
        *,
        timeout: float = 10.0,
    ) -> None:
        self._registry = registry
        self._integrations = integrations
        self._bus = bus
        self._clock = clock
        self._timeout = timeout
        self._last_write: dict[str, float] = {}  # point id -> clock time of the last write sent

    async def write(self, request: WriteRequest) -> WriteResult:
        """Check, send (unless dry run), verify and audit one write."""
        try:
            point: Point | None = self._registry.point(request.point_id)
        except KeyError:
            point = None
        latest = self._registry.latest(request.point_id) if point is not None else None
        old = latest.value if latest is not None else None
        refusal = self._refusal(request, point)
        if refusal is not None or point is None:
            rule, reason = refusal or (Refusal.UNKNOWN_POINT, "unknown point")
            return self._finish(request, old, WriteOutcome.REFUSED, reason, refusal=rule)
        integration = self._integrations(self._registry.device(point.device_id).domain)
        if integration is None:
            domain = self._registry.device(point.device_id).domain
            reason = f"integration {domain!r} is not loaded"
            return self._finish(request, old, WriteOutcome.REFUSED, reason, refusal=Refusal.NOT_LOADED)
        if request.dry_run:
            return self._finish(request, old, WriteOutcome.DRY_RUN, None)
        previous_write = self._last_write.get(point.id)
        self._last_write[point.id] = self._clock()  # held now so a concurrent write meets the rate limit
        failure = await self._send(integration, point, request)
        if failure is not None:
            if previous_write is None:
                self._last_write.pop(point.id, None)
            else:
                self._last_write[point.id] = previous_write
            return self._finish(request, old, WriteOutcome.FAILED, failure)
        verified, reason = await self._verify(integration, point, request)
        return self._finish(request, old, WriteOutcome.WRITTEN, reason, verified)

    def _refusal(self, request: WriteRequest, point: Point | None) -> tuple[Refusal, str] | None:
        """The rule that refuses the request and why, or None."""
        if point is None:
            return Refusal.UNKNOWN_POINT, f"unknown point {request.point_id!r}"
        if not point.writable:
            return Refusal.NOT_WRITABLE, f"point {point.id!r} is not writable"
        priority = request.priority
        if type(priority) is not int or not MIN_PRIORITY <= priority <= MAX_PRIORITY:
            return Refusal.BAD_PRIORITY, f"priority {priority!r} is outside {MIN_PRIORITY}..{MAX_PRIORITY}"
        value = request.value
        if value is not None:
            problem = _kind_problem(point.kind, value) or point.limits.problem(value)
            if problem is not None:
                return Refusal.BAD_VALUE, problem
        last = self._last_write.get(point.id)
        if last is not None and point.min_write_interval > 0:
            elapsed = self._clock() - last
            if 0 <= elapsed < point.min_write_interval:  # a clock set backwards does not lock the point
                return Refusal.RATE_LIMITED, (
                    f"rate limit: the last write was {elapsed:.1f} s ago, "
                    f"at most one write every {point.min_write_interval:g} s"
                )
        return None

    async def _send(self, integration: Integration, point: Point, request: WriteRequest) -> str | None:
        """Write through the integration; the reason it failed, or None."""
        try:
            async with asyncio.timeout(self._timeout):
                await integration.write(point, request.value, request.priority)
        except WriteError as err:
            return f"refused by the device: {err}" if str(err) else "refused by the device"
        except DeviceError as err:
            return f"device did not answer: {err}" if str(err) else "device did not answer"
        except TimeoutError:
            return f"no answer within {self._timeout:g} s"
        except Exception as err:
            _LOGGER.exception("write of %s through its integration raised", point.id)
            return f"{type(err).__name__}: {err}"
        return None

    async def _verify(
        self, integration: Integration, point: Point, request: WriteRequest
    ) -> tuple[bool | None, str | None]:
        """Read the point back: (verified, reason); (None, reason) when it could not be read."""
        if not request.verify or request.value is None:
            return None, None
        try:
            async with asyncio.timeout(self._timeout):
                samples = await integration.read([point])
        except TimeoutError:
            return None, f"could not read back: no answer within {self._timeout:g} s"
        except Exception as err:
            return None, f"could not read back: {err or type(err).__name__}"
        sample = samples.get(point.id)
        if sample is None or sample.quality == Quality.BAD:
            why = sample.reason if sample is not None and sample.reason else "no value returned"
            return None, f"could not read back: {why}"
        self._registry.update(point.id, sample)
        if _same(request.value, sample.value):
            return True, None
        return False, f"read back {sample.value!r}"

    def _finish(
        self,
        request: WriteRequest,
        old: Value,
        outcome: WriteOutcome,
        reason: str | None,
        verified: bool | None = None,
        refusal: Refusal | None = None,
    ) -> WriteResult:
        """Audit the request (bus + log) and build its result."""
        event = AuditEvent(
            self._clock(),
            request.actor,
            request.source,
            request.point_id,
            old,
            request.value,
            request.priority,
            outcome,
            reason,
        )
        self._bus.publish(event)
        level = logging.WARNING if outcome == WriteOutcome.FAILED else logging.INFO
        _LOGGER.log(
            level,
            "write %s = %r @%s by %s (%s): %s%s",
            request.point_id,
            request.value,
            request.priority,
            request.actor,
            request.source,
            outcome,
            f" ({reason})" if reason else "",
        )
        return WriteResult(
            outcome, request.point_id, old, request.value, request.priority, reason, verified, refusal
        )


def _kind_problem(kind: PointKind, value: Value) -> str | None:
    """Why `value` does not suit a point of `kind`, or None."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == PointKind.ANALOG and not is_number:
        return f"an analog point takes a number, not {value!r}"
    if kind == PointKind.BINARY and not (isinstance(value, bool) or (is_number and value in (0, 1))):
        return f"a binary point takes true/false or 0/1, not {value!r}"
    if kind == PointKind.MULTISTATE and not (isinstance(value, int) and not isinstance(value, bool)):
        return f"a multistate point takes an integer state, not {value!r}"
    if kind == PointKind.STRING and not isinstance(value, str):
        return f"a string point takes text, not {value!r}"
    return None


def _same(written: Value, read: Value) -> bool:
    """Numbers (true/false count as 1/0) within a relative 1e-6; anything else exactly."""
    if isinstance(written, int | float) and isinstance(read, int | float):
        return math.isclose(written, read, rel_tol=_REL_TOLERANCE)
    return written == read
