"""The BMS page over real HTTP: bad form input is named (never a 500), each role sees its controls."""

import dataclasses

import aiohttp
import pytest

from hub.bms.model import EventType
from hub.config import TcpListenerConfig
from tests.conftest import RunningHub, StartHub
from tests.ui_site import add_users, logged_in, ui_config


@pytest.fixture
async def ui_hub(start_hub: StartHub, tmp_path) -> RunningHub:
    running = await start_hub(ui_config(tmp_path))
    await add_users(running.hub)
    return running


async def post(http: aiohttp.ClientSession, path: str, form: dict[str, str], method: str = "POST"):
    async with http.request(method, path, data=form, headers={"HX-Request": "true"}) as answer:
        return answer.status, await answer.text()


async def create(http: aiohttp.ClientSession, name: str = "Tower A") -> str:
    status, html = await post(
        http, "/bms/connections", {"name": name, "bms_type": "webctrl", "transport": "websocket"}
    )
    assert status == 201, html
    return html


async def test_page__empty_state_with_the_connect_button_for_admins_only(ui_hub: RunningHub):
    async with await logged_in(ui_hub, "ada") as http, http.get("/bms") as answer:
        html = await answer.text()
    assert answer.status == 200
    assert "No BMS is connected yet" in html
    assert 'hx-get="/bms/wizard"' in html
    async with await logged_in(ui_hub, "otto") as http, http.get("/bms") as answer:
        html = await answer.text()
    assert "No BMS is connected yet" in html
    assert "/bms/wizard" not in html
    assert "An admin can connect one." in html


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "bms_type": "webctrl"}, "name: required"),
        ({"name": "x" * 101, "bms_type": "webctrl"}, "name: expected at most 100 characters, got 101"),
        (
            {"name": "Tower", "bms_type": "honeywell"},
            "bms_type: expected one of ecostruxure, webctrl, generic",
        ),
        ({}, "bms_type: expected one of"),
    ],
)
async def test_wizard__a_bad_step_one_field_is_named(ui_hub: RunningHub, form, message):
    async with await logged_in(ui_hub, "ada") as http:
        status, html = await post(http, "/bms/wizard", form)
    assert status == 422
    assert message in html
    assert "Step 1 of 2" in html  # back on the same step, the fields kept
    assert not ui_hub.hub.bms.connections()


async def test_wizard__step_two_offers_the_tcp_listener_when_it_is_on(ui_hub: RunningHub):
    async with await logged_in(ui_hub, "ada") as http:
        status, html = await post(http, "/bms/wizard", {"name": "Tower A", "bms_type": "ecostruxure"})
    assert status == 200
    assert "Step 2 of 2" in html
    assert f"ws://127.0.0.1:{ui_hub.http_port}/mqtt" in html
    assert f"mqtt://127.0.0.1:{ui_hub.tcp_port}" in html
    assert "TCP listener is off" not in html


async def test_wizard__step_two_says_what_is_not_available_and_refuses_it(start_hub: StartHub, tmp_path):
    config = ui_config(tmp_path)
    ui_hub = await start_hub(
        dataclasses.replace(config, mqtt=dataclasses.replace(config.mqtt, tcp=TcpListenerConfig()))
    )
    await add_users(ui_hub.hub)
    async with await logged_in(ui_hub, "ada") as http:
        status, html = await post(http, "/bms/wizard", {"name": "Tower A", "bms_type": "ecostruxure"})
        assert status == 200
        assert "the hub&#39;s TCP listener is off" in html
        assert "this hub has no MQTT TLS listener" in html
        form = {"name": "Tower A", "bms_type": "ecostruxure", "transport": "tcp"}
        status, html = await post(http, "/bms/connections", form)
        assert status == 422
        assert "transport: MQTT over TCP is not available" in html
        status, html = await post(http, "/bms/connections", {**form, "transport": "carrier-pigeon"})
        assert status == 422
        assert "transport: expected one of websocket, tcp, got &#39;carrier-pigeon&#39;" in html
    assert not ui_hub.hub.bms.connections()


async def test_create__shows_the_credentials_once_with_the_type_s_settings(ui_hub: RunningHub):
    async with await logged_in(ui_hub, "ada") as http:
        html = await create(http)
        (connection,) = ui_hub.hub.bms.connections()
        password = ui_hub.hub.bms.reveal(connection.id, "test")
        assert password in html
        assert "WebCTRL setting" in html  # the guide of its type, filled with its own values
        assert "<code>bms/tower-a/readings</code> (a fixed topic" in html
        async with http.get(f"/bms/{connection.id}/credentials") as answer:
            assert password not in await answer.text()  # only revealed on request from now on
        async with http.get("/bms") as answer:
            page = await answer.text()
        assert "Tower A" in page
        assert password not in page


async def test_roles__each_sees_only_the_controls_it_may_use(ui_hub: RunningHub):
    async with await logged_in(ui_hub, "ada") as http:
        await create(http)
        async with http.get("/bms/tower-a/credentials") as answer:
            admin_dialog = await answer.text()
    assert "Reveal" in admin_dialog
    assert "Regenerate password" in admin_dialog
    for user, sees_test in (("otto", True), ("vera", False)):
        async with await logged_in(ui_hub, user) as http:
            async with http.get("/bms") as answer:
                page = await answer.text()
            async with http.get("/bms/tower-a/credentials") as answer:
                dialog = await answer.text()
            status, _ = await post(http, "/bms/tower-a/credentials/reveal", {})
        assert ("/bms/tower-a/test" in page) is sees_test, user
        assert "Disable" not in page
        assert ">Delete<" not in page
        assert 'hx-post="/bms/tower-a/credentials/reveal"' not in dialog
        assert "Regenerate" not in dialog
        assert status == 403


async def test_activity__bad_filters_are_named(ui_hub: RunningHub):
    async with await logged_in(ui_hub, "vera") as http:
        await ui_hub.hub.bms.create("Tower A", "generic", "websocket", "", "test")  # type: ignore[arg-type]
        for query, message in (
            ("from=yesterday", "from: expected a date such as 2026-03-01, got &#39;yesterday&#39;"),
            ("from=2026-03-02&to=2026-03-01", "to: expected a date on or after from"),
            ("type=everything", "type: expected one of message_received"),
            ("severity=loud", "severity: expected one of info, warning, error"),
            ("page=0", "page: expected a page number from 1"),
            ("page=%C2%B2", "page: expected a page number from 1"),
        ):
            async with http.get(f"/bms/tower-a/activity?{query}") as answer:
                assert answer.status == 422, query
                assert message in await answer.text(), query
        async with http.get("/bms/tower-a/activity?type=config_changed") as answer:
            html = await answer.text()
        assert "connection created by test" in html


async def test_mapping__bad_fields_are_named_and_nothing_is_mapped(ui_hub: RunningHub):
    bms = ui_hub.hub.bms
    await bms.create("Tower A", "generic", "websocket", "", "test")  # type: ignore[arg-type]
    async with await logged_in(ui_hub, "otto") as http:
        for form, message in (
            ({}, "external_id: required"),
            ({"external_id": "AHU1/Temp", "name": "bad name!"}, "name: expected 1 to 100 letters"),
            ({"external_id": "AHU1/Temp", "units": "u" * 33}, "units: expected at most 32 characters"),
            ({"external_id": "AHU1/Temp", "target": "existing"}, "point: required"),
            ({"external_id": "AHU1/Temp", "target": "existing", "point_id": "nope.x"}, "point: no point"),
            (
                {"external_id": "AHU1/Temp", "source_unit": "kW", "units": "degC"},
                "units: cannot convert kW (power) to degC (temperature)",
            ),
        ):
            status, html = await post(http, "/bms/tower-a/mappings", form)
            assert status == 422, (form, html)
            assert message in html, form
        assert not bms.mappings.of("tower-a")
        status, html = await post(http, "/bms/tower-a/mappings", {"external_id": "AHU1/Temp"})
        assert status == 200, html
        assert "AHU1/Temp is mapped to bms-tower-a.AHU1_Temp" in html
        status, html = await post(http, "/bms/tower-a/mappings", {"external_id": "AHU1/Temp"})
        assert status == 409
        assert "&#39;AHU1/Temp&#39; is already mapped" in html
        (mapping,) = bms.mappings.of("tower-a")
        path = f"/bms/tower-a/mappings/{mapping.id}"
        status, html = await post(http, path, {"source_unit": "degF", "units": "kW"}, "PATCH")
        assert status == 422
        assert "units: cannot convert degF (temperature) to kW (power)" in html
        status, html = await post(http, "/bms/tower-a/mappings/99", {}, "DELETE")
        assert status == 404
        status, html = await post(http, path, {}, "DELETE")
        assert status == 200
        assert "AHU1/Temp is no longer mapped" in html
    assert not bms.mappings.of("tower-a")


async def test_unknown_connection__a_message_not_a_500(ui_hub: RunningHub):
    async with await logged_in(ui_hub, "ada") as http:
        for method, path in (
            ("GET", "/bms/nope/credentials"),
            ("GET", "/bms/nope/mappings"),
            ("POST", "/bms/nope/test"),
            ("DELETE", "/bms/nope"),
        ):
            status, html = await post(http, path, {}, method)
            assert status == 404, path
            assert "No BMS connection &#39;nope&#39;" in html
        status, html = await post(http, "/bms/%3Cscript%3E/credentials", {}, "GET")
        assert status == 404
        assert "&lt;script&gt;" in html
        assert "<script>" not in html


async def test_point_picker__offers_points_matching_the_text(ui_hub: RunningHub):
    async with (
        await logged_in(ui_hub, "vera") as http,
        http.get("/bms/points?point_id=AHU-1.SUPPLY") as answer,
    ):
        html = await answer.text()
    assert '<option value="ahu-1.supply_air_temp">' in html
    assert "vav-1" not in html


async def test_enable__disable_and_enable_again_redraws_the_card(ui_hub: RunningHub):
    bms = ui_hub.hub.bms
    await bms.create("Tower A", "generic", "websocket", "", "test")  # type: ignore[arg-type]
    async with await logged_in(ui_hub, "ada") as http:
        status, html = await post(http, "/bms/tower-a/enabled", {"enabled": "maybe"})
        assert status == 422
        assert "enabled: expected true or false, got &#39;maybe&#39;" in html
        assert bms.get("tower-a").enabled
        status, html = await post(http, "/bms/tower-a/enabled", {"enabled": "false"})
        assert status == 200
        assert ">disabled<" in html
        assert ">Enable<" in html
        assert not bms.get("tower-a").enabled
        status, html = await post(http, "/bms/tower-a/enabled", {"enabled": "true"})
        assert ">Disable<" in html
        assert bms.get("tower-a").enabled


async def test_activity__twenty_entries_a_page_newest_first(ui_hub: RunningHub):
    bms = ui_hub.hub.bms
    await bms.create("Tower A", "generic", "websocket", "", "test")  # type: ignore[arg-type]
    for number in range(1, 21):  # with "connection created": 21 entries
        bms.activity.record("tower-a", EventType.ERROR, f"error {number:02d}")
    async with await logged_in(ui_hub, "vera") as http:
        async with http.get("/bms/tower-a/activity") as answer:
            first = await answer.text()
        async with http.get("/bms/tower-a/activity?page=2") as answer:
            second = await answer.text()
        async with http.get("/bms/tower-a/activity?severity=error&page=2") as answer:
            errors = await answer.text()
    assert "Page 1 of 2 · 21 entries" in first
    assert first.count("<tr>") == 21  # the heading and 20 entries
    assert "page=2" in first
    assert "Page 2 of 2" in second
    assert "connection created by test" in second  # the oldest
    # 20 errors fill one page: a link past the end (bookmarked, or the log shrank) shows the last page
    assert "Page 1 of 1 · 20 entries" in errors
    assert errors.count("<tr>") == 21
    assert "← Newer" not in errors
