"""The alarm console without a browser: a real hub on the demo site, a real limit alarm, real HTTP."""

import asyncio
import html
import re

import pytest

from hub.alarms.model import AlarmState, Severity
from hub.http.views_alarms_live import ChangeSignal
from tests.alarm_ui_site import (
    ALARM_ID,
    LIMIT_POINT,
    PEAK_POINT,
    add_peak_controller,
    alarm_config,
    changed,
    drive_back,
    drive_past_limit,
    reported,
)
from tests.conftest import RunningHub, StartHub
from tests.ui_site import add_users, logged_in

HTMX = {"HX-Request": "true"}


@pytest.fixture
async def site(start_hub: StartHub, tmp_path) -> RunningHub:
    running = await start_hub(alarm_config(tmp_path))
    await add_users(running.hub)
    return running


async def get(running: RunningHub, path: str, user: str = "vera", htmx: bool = False) -> tuple[int, str]:
    async with await logged_in(running, user) as http, http.get(path, headers=HTMX if htmx else {}) as answer:
        return answer.status, await answer.text()


def listed(page: str) -> list[str]:
    """The alarm ids of the console's rows, in order."""
    return re.findall(r'data-alarm-id="([^"]+)"', page)


async def test_console__no_alarm_is_good_news(site: RunningHub):
    status, page = await get(site, "/alarms")
    assert status == 200
    assert "No active alarms" in page
    assert 'aria-current="page">Alarms<' in page  # the navigation marks the console
    assert "No alarm is shelved" in page


async def test_console__a_raised_limit_alarm_is_listed_with_links_and_local_times(site: RunningHub):
    alarm = await drive_past_limit(site.hub)
    status, page = await get(site, "/alarms")
    assert status == 200
    assert listed(page) == [ALARM_ID]
    assert "No active alarms" not in page
    assert "active, unacknowledged" in page
    assert f'href="/points/{LIMIT_POINT}"' in page
    assert 'href="/devices/vav-2"' in page
    assert "CET" in page or "CEST" in page  # the site's zone (Europe/Paris), not UTC
    assert html.escape(alarm.message) in page


async def test_console__filters_narrow_the_list_and_say_so_when_nothing_matches(site: RunningHub):
    await drive_past_limit(site.hub)
    for query, expected in [
        ("severity=critical", [ALARM_ID]),
        ("severity=minor", []),
        ("source=limit&state=active_unacked", [ALARM_ID]),
        ("source=stale", []),
        ("q=VAV-2.ZONE", [ALARM_ID]),  # the text search ignores case
        ("q=nothing-like-it", []),
    ]:
        status, page = await get(site, f"/alarms?{query}", htmx=True)
        assert status == 200, query
        assert "<html" not in page  # htmx gets the lists only
        assert listed(page) == expected, query
        if not expected:
            assert "No current alarm matches these filters" in page
            assert "No active alarms" not in page  # a filtered-out list is no good news


async def test_console__sorts_by_a_column_and_a_second_click_reverses(site: RunningHub):
    hub = site.hub
    await drive_past_limit(hub)
    hub.alarms.raise_flow_alarm("pumps", "low_pressure", Severity.MINOR, "pump pressure low")
    flow_alarm = "flow:pumps:low_pressure"
    _, page = await get(site, "/alarms")
    assert listed(page) == [ALARM_ID, flow_alarm]  # default: critical first
    _, page = await get(site, "/alarms?sort=severity&order=desc")
    assert listed(page) == [flow_alarm, ALARM_ID]
    assert 'aria-sort="descending"' in page
    _, page = await get(site, "/alarms?sort=raised_at")
    assert listed(page) == [ALARM_ID, flow_alarm]  # raised first, listed first
    assert 'href="/alarms?sort=raised_at&amp;order=desc"' in page  # clicking it again reverses
    _, page = await get(site, "/alarms?sort=source")
    assert listed(page) == [flow_alarm, ALARM_ID]  # flow before limit
    assert 'href="/flows/pumps/edit"' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("state=broken", "state: expected one of active_unacked, active_acked, cleared_unacked, normal"),
        (
            "severity=CRITICAL",
            "severity: expected one of critical, major, minor, info, got &#39;CRITICAL&#39;",
        ),
        ("source=nope", "source: expected one of limit, stale"),
        ("sort=colour", "sort: expected one of severity"),
        ("order=up", "order: expected asc or desc, got &#39;up&#39;"),
        ("q=" + "x" * 201, "q: expected at most 200 characters"),
    ],
)
async def test_console__a_bad_query_parameter_is_a_400_page_naming_it(site: RunningHub, query, message):
    for htmx in (False, True):
        status, page = await get(site, f"/alarms?{query}", htmx=htmx)
        assert status == 400, page
        assert message in page
        assert 'role="alert"' in page


async def test_actions__acknowledge_with_a_comment_then_nothing_left_to_acknowledge(site: RunningHub):
    await drive_past_limit(site.hub)
    async with await logged_in(site, "otto") as http:
        url = f"/alarms/{ALARM_ID}/acknowledge"
        async with http.post(url, data={"comment": "on my way"}, headers=HTMX) as answer:
            text = await answer.text()
            assert answer.status == 200, text
            assert answer.headers["HX-Trigger"] == "alarm-acted"
        assert f"Acknowledged {ALARM_ID}: now active, acknowledged." in text
        async with http.post(url, headers=HTMX) as answer:
            assert "Nothing to acknowledge" in await answer.text()
        async with http.get(f"/api/alarms/{ALARM_ID}") as answer:  # the same state through REST
            body = await answer.json()
    assert body["state"] == "active_acked"
    assert body["acked_by"] == "otto"
    assert body["history"][-1]["message"] == "on my way"


async def test_actions__shelve_needs_a_known_duration_and_a_reason(site: RunningHub):
    await drive_past_limit(site.hub)
    async with await logged_in(site, "otto") as http:
        url = f"/alarms/{ALARM_ID}/shelve"
        for form, refusal in [
            ({"duration": "3600"}, "Refused: reason: required"),
            ({"duration": "3600", "reason": "   "}, "Refused: reason: required"),
            ({"duration": "99", "reason": "x"}, "Refused: duration: expected one of 15 minutes, 1 hour"),
            ({"duration": "²", "reason": "x"}, "Refused: duration"),
            ({"duration": "3600", "reason": "x" * 2001}, "Refused: reason: expected at most 2000"),
        ]:
            async with http.post(url, data=form, headers=HTMX) as answer:
                assert answer.status == 422
                assert refusal in await answer.text()
        assert not site.hub.alarms.get(ALARM_ID).shelved(site.hub.alarms.now())  # nothing changed
        async with http.post(url, data={"duration": "3600", "reason": "sensor swap"}) as answer:
            assert answer.status == 200
            assert f"Shelved {ALARM_ID} until 20" in await answer.text()
    _, page = await get(site, "/alarms")
    shelved_part = page[page.index('id="shelved-h"') :]
    assert listed(shelved_part) == [ALARM_ID]
    assert listed(page) == [ALARM_ID]  # listed once, as shelved
    assert "sensor swap" in shelved_part
    assert "No active alarms" not in page  # the shelved alarm is still in alarm
    assert "Only the shelved alarms below are in alarm" in page


async def test_actions__an_unknown_alarm_is_refused_by_name(site: RunningHub):
    async with (
        await logged_in(site, "otto") as http,
        http.post("/alarms/limit:nope:high/resolve", headers=HTMX) as answer,
    ):
        assert answer.status == 404
        assert "Refused: no alarm &#39;limit:nope:high&#39; on this hub." in await answer.text()
    status, page = await get(site, "/alarms/limit:nope:high")
    assert status == 404
    assert "No such alarm" in page


async def test_roles__a_viewer_sees_no_action_and_may_not_act(site: RunningHub):
    await drive_past_limit(site.hub)
    _, viewer_page = await get(site, "/alarms", user="vera")
    _, operator_page = await get(site, "/alarms", user="otto")
    assert f'hx-post="/alarms/{ALARM_ID.replace(":", "%3A")}/acknowledge"' in operator_page
    assert "hx-post" not in viewer_page
    assert "Act…" not in viewer_page
    _, viewer_detail = await get(site, f"/alarms/{ALARM_ID}", user="vera")
    assert "hx-post" not in viewer_detail
    assert 'name="comment"' not in viewer_detail
    async with await logged_in(site, "vera") as http, http.post(f"/alarms/{ALARM_ID}/acknowledge") as answer:
        assert answer.status == 403
    assert site.hub.alarms.get(ALARM_ID).state is AlarmState.ACTIVE_UNACKED


async def test_detail__the_history_shows_who_did_what_with_which_value(site: RunningHub):
    hub = site.hub
    await drive_past_limit(hub)
    hub.alarms.acknowledge(ALARM_ID, "otto", "looking")
    await changed(hub, ALARM_ID, AlarmState.NORMAL, lambda: drive_back(hub))
    status, page = await get(site, f"/alarms/{ALARM_ID}")
    assert status == 200
    kinds = re.findall(r'data-kind="(\w+)"', page)
    assert kinds == ["cleared", "acknowledged", "raised"]  # newest first
    assert '<td data-label="Value">28.0</td>' in page
    assert ">otto<" in page
    assert "looking" in page
    status, fragment = await get(site, f"/alarms/{ALARM_ID}", htmx=True)
    assert 'id="alarm-summary"' in fragment
    assert 'id="alarm-history"' in fragment
    assert "<html" not in fragment


async def test_action_panel__operators_get_the_forms(site: RunningHub):
    await drive_past_limit(site.hub)
    status, panel = await get(site, f"/alarms/{ALARM_ID}/actions", user="otto")
    assert status == 200
    assert 'name="comment"' in panel
    assert 'name="reason"' in panel
    assert "Shelve for" in panel
    assert "Close" in panel
    _, embedded = await get(site, f"/alarms/{ALARM_ID}/actions?embedded=true", user="otto")
    assert "Close" not in embedded  # for the alarm's own page
    assert 'name="reason"' in embedded
    status, _ = await get(site, "/alarms/limit:nope:high/actions", user="otto")
    assert status == 404


async def test_live__a_burst_of_changes_is_one_signal():
    """A flapping source wakes a client once per gap, not once per transition; memory is one flag."""
    signal = ChangeSignal()
    for _ in range(50):
        signal.on_change(object())
    assert await signal.wait(1.0) is True
    assert await signal.wait(0) is False  # the 49 others were the same signal


async def test_live__the_stream_says_alarms_changed(site: RunningHub):
    async with await logged_in(site, "vera") as http, http.get("/live/alarms") as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        assert await stream.content.readline() == b": connected\n"
        assert await stream.content.readline() == b"\n"
        site.hub.alarms.raise_flow_alarm("pumps", "low_pressure", Severity.MINOR, "pump pressure low")
        async with asyncio.timeout(10):
            assert await stream.content.readline() == b"event: alarms\n"
            assert await stream.content.readline() == b"data: changed\n"


async def test_status_cards__states_labels_ages_and_never_reported(site: RunningHub):
    async with site.http("admin") as admin:
        await add_peak_controller(admin)
    await reported(site.hub, "ahu-1.fan_status", "vav-1.occupancy_mode")
    status, overview = await get(site, "/")
    assert status == 200
    cards = overview[overview.index('id="status-cards"') :]
    plant = cards[cards.index('data-card="plant"') : cards.index('data-card="peak-shaving"')]
    assert re.search(r"Supply fan</span>\s*<b class=\"line-state\">(ON|OFF)</b>", plant)
    assert re.search(r"North office</span>\s*<b class=\"line-state\">Occupied</b>", plant)
    assert plant.count('data-freshness="fresh"') == 2
    assert "updated " in plant
    peak = cards[cards.index('data-card="peak-shaving"') :]
    assert f'data-point="{PEAK_POINT}" data-freshness="never_reported"' in peak
    assert "never reported" in peak
    assert "not fresh" in peak
    status, fragment = await get(site, "/live/status-cards")
    assert status == 200
    assert 'hx-trigger="every 5s"' in fragment
    assert "<html" not in fragment
