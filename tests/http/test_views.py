"""Dashboard pages over real HTTP: each renders, htmx gets fragments, bad input is named, roles hold."""

import pytest

from tests.conftest import RunningHub, StartHub
from tests.ui_site import add_users, logged_in, slots, ui_config

PAGES = (
    "/",
    "/devices",
    "/devices/ahu-1",
    "/points/ahu-1.supply_air_setpoint",
    "/discovery",
    "/activity",
    "/live/broker",
)


@pytest.fixture
async def ui_hub(start_hub: StartHub, tmp_path) -> RunningHub:
    running = await start_hub(ui_config(tmp_path))
    await add_users(running.hub)
    return running


async def test_pages__each_renders_the_layout_with_the_current_section_marked(ui_hub: RunningHub):
    async with await logged_in(ui_hub, "vera") as http:
        for path in PAGES:
            async with http.get(path) as answer:
                html = await answer.text()
                assert answer.status == 200, (path, html)
            assert 'aria-current="page"' in html, path
            assert "acme / hq / hub-1" in html
            assert '"X-CSRF-Token"' in html  # htmx sends the session's CSRF token with every request


async def test_pages__without_a_session_a_browser_is_sent_to_the_login_form(ui_hub: RunningHub):
    async with (
        ui_hub.http(user=None) as http,
        http.get("/devices", headers={"Accept": "text/html"}, allow_redirects=False) as answer,
    ):
        assert answer.status == 303
        assert answer.headers["Location"].startswith("/login?next=")


async def test_devices__htmx_gets_only_the_filtered_rows(ui_hub: RunningHub):
    async with await logged_in(ui_hub, "vera") as http:
        async with http.get("/devices?q=VAV", headers={"HX-Request": "true"}) as answer:
            html = await answer.text()
        assert "<html" not in html
        assert html.count("<tr>") == 4
        async with http.get("/devices?protocol=bacnet", headers={"HX-Request": "true"}) as answer:
            assert "No device matches." in await answer.text()


async def test_point_page__an_unknown_range_is_a_400_naming_the_choices(ui_hub: RunningHub):
    async with (
        await logged_in(ui_hub, "vera") as http,
        http.get("/points/ahu-1.supply_air_setpoint?range=2y") as answer,
    ):
        assert answer.status == 400
        html = await answer.text()
    assert "range: expected one of 1h, 6h, 24h, 7d, 30d, got &#39;2y&#39;" in html
    assert "Last 24 hours" in html  # with the default chart


async def test_unknown_device_and_point__404_pages(ui_hub: RunningHub):
    async with await logged_in(ui_hub, "vera") as http:
        for path in ("/devices/nope", "/points/nope.x"):
            async with http.get(path) as answer:
                assert answer.status == 404
                assert "No such" in await answer.text()


async def test_write__dry_run_first_then_the_confirmed_write_is_audited_as_the_ui_user(ui_hub: RunningHub):
    hub = ui_hub.hub
    async with await logged_in(ui_hub, "otto") as http:
        form = {"action": "write", "value": "19", "priority": "9"}
        async with http.post("/points/ahu-1.supply_air_setpoint/write", data=form) as answer:
            assert answer.status == 200
            assert "Confirm" in await answer.text()
        assert 19.0 not in await slots(
            ui_hub, "ahu-1.supply_air_setpoint"
        )  # nothing written before confirming
        async with http.post(
            "/points/ahu-1.supply_air_setpoint/write", data={**form, "confirm": "yes"}
        ) as answer:
            assert answer.status == 200
            assert answer.headers["HX-Trigger"] == "refresh-priority"
            assert "Written: 19.00 °C at priority 9" in await answer.text()
        async with http.get("/points/ahu-1.supply_air_setpoint/priority") as answer:
            assert "9: 19.00" in await answer.text()
    await hub.store.flush()
    async with await logged_in(ui_hub, "vera") as http, http.get("/activity?type=audit") as answer:
        html = await answer.text()
    assert "actor: otto" in html
    assert "source: ui" in html


async def test_activity__a_page_past_the_end_shows_the_last_page(ui_hub: RunningHub):
    async with await logged_in(ui_hub, "otto") as http:
        form = {"action": "write", "value": "19", "priority": "9", "confirm": "yes"}
        async with http.post("/points/ahu-1.supply_air_setpoint/write", data=form) as answer:
            assert answer.status == 200
    await ui_hub.hub.store.flush()
    async with await logged_in(ui_hub, "vera") as http, http.get("/activity?type=audit&page=7") as answer:
        html = await answer.text()
    assert answer.status == 200
    assert "Page 1 of 1 · 1 event<" in html
    assert "actor: otto" in html
    assert "Newer" not in html


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"action": "write", "value": "31", "priority": "8"}, 422, "Refused: 31.0 is above the maximum 30"),
        ({"action": "write", "value": "", "priority": "8"}, 422, "value: required"),
        ({"action": "write", "value": "20", "priority": "high"}, 422, "priority: expected a whole number"),
        ({"action": "write", "value": "20", "priority": "17"}, 422, "Refused: priority 17"),
        ({"action": "toggle", "value": "20", "priority": "8"}, 422, "action: expected write or relinquish"),
    ],
)
async def test_write__bad_input_is_named_and_nothing_is_written(ui_hub: RunningHub, form, status, message):
    async with (
        await logged_in(ui_hub, "otto") as http,
        http.post("/points/ahu-1.supply_air_setpoint/write", data={**form, "confirm": "yes"}) as answer,
    ):
        assert answer.status == status
        assert message in await answer.text()
    assert set(await slots(ui_hub, "ahu-1.supply_air_setpoint")) == {None}


async def test_write__a_viewer_is_refused(ui_hub: RunningHub):
    async with (
        await logged_in(ui_hub, "vera") as http,
        http.post(
            "/points/ahu-1.supply_air_setpoint/write",
            data={"action": "write", "value": "20", "priority": "8"},
        ) as answer,
    ):
        assert answer.status == 403


async def test_discovery__scan_from_the_form_then_its_fragment_until_completed(ui_hub: RunningHub):
    async with await logged_in(ui_hub, "otto") as http:
        async with http.post("/discovery/scan", data={"integration": "simulator", "timeout": "5"}) as answer:
            assert answer.status == 200
            html = await answer.text()
        [operation] = ui_hub.hub.discovery.operations()
        assert f"operation-{operation.id}" in html
        async with http.post("/discovery/scan", data={"integration": "simulator", "timeout": "0"}) as answer:
            assert answer.status == 422
            assert "timeout: expected seconds from 0.1 to 3600" in await answer.text()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=yesterday", "from: expected a date such as 2026-03-01"),
        ("from=2026-03-02&to=2026-03-01", "to: expected a date on or after from"),
        ("severity=loud", "severity: expected one of critical"),
        ("page=0", "page: expected a page number from 1"),
    ],
)
async def test_activity__a_bad_filter_is_a_400_naming_the_field(ui_hub: RunningHub, query, message):
    async with await logged_in(ui_hub, "vera") as http, http.get(f"/activity?{query}") as answer:
        assert answer.status == 400
        assert message in await answer.text()
