"""The alarm console's test site: the sped-up demo with a limit alarm, status cards and a site time zone.

The alarm is real: writing the demo's VAV 2 zone setpoint above HIGH (through the one write path)
makes the simulator report the value and the limit source raise `ALARM_ID`. The peak-shaving card
reads a point of an external BMS connection that has not sent anything yet: "never reported".
"""

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from hub.alarms.model import Alarm, AlarmState, Severity
from hub.alarms.service import AlarmChanged
from hub.alarms.settings import AlarmsConfig, CardFormat, CardPoint, LimitRule, StaleRule, StatusCard
from hub.commands import WriteOutcome, WriteRequest, WriteSource
from hub.config import HubConfig
from hub.core import Hub
from hub.points import PointUpdate
from tests.ui_site import ui_config

LIMIT_POINT = "vav-2.zone_setpoint"  # the demo holds 22 °C until someone writes it
HIGH = 26.0
ALARM_ID = f"limit:{LIMIT_POINT}:high"
TIMEZONE = "Europe/Paris"
PEAK_CONNECTION = "Peak controller"  # an external controller's BMS connection: id peak-controller
PEAK_POINT = "bms-peak-controller.peak_shaving"
WAIT_S = 10.0  # a bound on waits for the hub; reached only when a test fails

CARDS = (
    StatusCard(
        "plant",
        "Plant",
        (
            CardPoint("ahu-1.fan_status", label="Supply fan", format=CardFormat.BOOLEAN),
            CardPoint(
                "vav-1.occupancy_mode",
                label="North office",
                format=CardFormat.MULTISTATE,
                states={1: "Occupied", 2: "Unoccupied", 3: "Standby"},
            ),
        ),
    ),
    StatusCard(
        "peak-shaving",
        "Peak shaving",
        (CardPoint(PEAK_POINT, label="Peak shaving", format=CardFormat.BOOLEAN),),
    ),
)


def alarm_config(tmp_path: Path) -> HubConfig:
    """ui_config with a high limit on LIMIT_POINT (no delay), the status cards and the site's zone."""
    base = ui_config(tmp_path)
    alarms = AlarmsConfig(
        tick_interval=0.2,
        stale=StaleRule(enabled=False),  # no stale alarms when a loaded test machine polls late
        limits=(LimitRule(LIMIT_POINT, high=HIGH, severity=Severity.CRITICAL),),
        status_cards=CARDS,
    )
    identity = dataclasses.replace(base.identity, timezone=TIMEZONE)
    polling = dataclasses.replace(base.polling, stale_factor=50)  # 10 s of 0.2 s polls: late ones stay fresh
    return dataclasses.replace(base, alarms=alarms, identity=identity, polling=polling)


async def changed(
    hub: Hub, alarm_id: str, state: AlarmState, cause: Callable[[], Awaitable[object]] | None = None
) -> Alarm:
    """Wait for `alarm_id` to reach `state`, after awaiting `cause` (the wait starts before it)."""
    reached = asyncio.Event()

    def on_change(event: AlarmChanged) -> None:
        if event.alarm.id == alarm_id and event.alarm.state is state:
            reached.set()

    unsubscribe = hub.bus.subscribe(AlarmChanged, on_change)
    try:
        if cause is not None:
            await cause()
        current = hub.alarms.get(alarm_id)
        if current is None or current.state is not state:
            async with asyncio.timeout(WAIT_S):
                await reached.wait()
    finally:
        unsubscribe()
    alarm = hub.alarms.get(alarm_id)
    assert alarm is not None
    return alarm


async def drive_past_limit(hub: Hub, value: float = HIGH + 2) -> Alarm:
    """Write LIMIT_POINT beyond its limit as an operator would, and wait for the limit alarm."""

    async def write() -> None:
        result = await hub.commands.write(
            WriteRequest(LIMIT_POINT, value, actor="otto", source=WriteSource.UI)
        )
        assert result.outcome is WriteOutcome.WRITTEN, result

    return await changed(hub, ALARM_ID, AlarmState.ACTIVE_UNACKED, write)


async def drive_back(hub: Hub) -> None:
    """Write LIMIT_POINT back to the demo's 22 °C (the limit alarm clears)."""
    result = await hub.commands.write(WriteRequest(LIMIT_POINT, 22.0, actor="otto", source=WriteSource.UI))
    assert result.outcome is WriteOutcome.WRITTEN, result


async def reported(hub: Hub, *point_ids: str) -> None:
    """Wait until each of `point_ids` has a sample (the simulator's first polls)."""
    arrived = asyncio.Event()

    def check(_update: PointUpdate | None = None) -> None:
        if all(hub.points.latest(point_id) is not None for point_id in point_ids):
            arrived.set()

    unsubscribe = hub.bus.subscribe(PointUpdate, check)
    try:
        check()
        async with asyncio.timeout(WAIT_S):
            await arrived.wait()
    finally:
        unsubscribe()


async def add_peak_controller(admin: aiohttp.ClientSession) -> None:
    """Create the external controller's BMS connection and map its PeakShaving reading to PEAK_POINT."""
    async with admin.post("/api/bms/connections", json={"name": PEAK_CONNECTION}) as answer:
        assert answer.status == 201, await answer.text()
        connection = (await answer.json())["id"]
    body = {"external_id": "PeakShaving", "new_point": {"name": "peak_shaving", "kind": "binary"}}
    async with admin.post(f"/api/bms/connections/{connection}/mappings", json=body) as answer:
        assert answer.status in (200, 201), await answer.text()
        assert (await answer.json())["point_id"] == PEAK_POINT
