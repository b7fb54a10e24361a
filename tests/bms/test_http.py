"""The /api/bms REST API: CRUD, roles, mappings, errors that name the field, and what a restart keeps."""

import pytest

from hub.bms.model import EventType
from tests.bms.conftest import bms_client, create_connection, payload, reading
from tests.conftest import RunningHub, StartHub, make_config
from tests.http.helpers import call

BASE = "/api/bms/connections"


async def test_connections__create_list_get_update_delete(bms_hub: RunningHub):
    status, created = await call(
        bms_hub, "POST", BASE, {"name": "Tower A EcoStruxure", "bms_type": "ecostruxure", "transport": "tcp"}
    )
    assert status == 201, created
    one = f"{BASE}/{created['id']}"
    assert created["id"] == "tower-a-ecostruxure"
    credentials = created["credentials"]
    assert credentials["client_id"] == credentials["username"] == "bms-tower-a-ecostruxure"
    assert credentials["topic"] == "bms/tower-a-ecostruxure/readings"
    assert len(credentials["password"]) >= 32
    assert credentials["endpoints"] == {
        "websocket": f"ws://127.0.0.1:{bms_hub.http_port}/mqtt",
        "tcp": f"mqtt://127.0.0.1:{bms_hub.tcp_port}",
    }
    assert bms_hub.hub.points.device("bms-tower-a-ecostruxure").name == "Tower A EcoStruxure"

    _, second = await call(bms_hub, "POST", BASE, {"name": "Tower A EcoStruxure"})
    assert second["id"] == "tower-a-ecostruxure-2"
    status, listed = await call(bms_hub, "GET", BASE, user="viewer")
    assert status == 200
    assert [c["id"] for c in listed["connections"]] == ["tower-a-ecostruxure", "tower-a-ecostruxure-2"]
    assert all("password" not in c["credentials"] for c in listed["connections"])

    status, changed = await call(bms_hub, "PATCH", one, {"name": "Tower A", "description": "roof plant"})
    assert (status, changed["name"], changed["description"]) == (200, "Tower A", "roof plant")
    assert bms_hub.hub.points.device("bms-tower-a-ecostruxure").name == "Tower A"

    status, gone = await call(bms_hub, "DELETE", one)
    assert (status, gone) == (200, {"deleted": "tower-a-ecostruxure"})
    assert (await call(bms_hub, "GET", one))[0] == 404
    assert "bms-tower-a-ecostruxure" not in {d.id for d in bms_hub.hub.points.devices()}


@pytest.mark.parametrize(
    ("method", "path", "user", "expected"),
    [
        ("GET", BASE, "viewer", 200),
        ("POST", BASE, "operator", 403),
        ("PATCH", f"{BASE}/b", "operator", 403),
        ("DELETE", f"{BASE}/b", "operator", 403),
        ("POST", f"{BASE}/b/credentials/regenerate", "operator", 403),
        ("POST", f"{BASE}/b/credentials/reveal", "viewer", 403),
        ("POST", f"{BASE}/b/mappings", "viewer", 403),
        ("POST", f"{BASE}/b/mappings", "operator", 201),
        ("POST", f"{BASE}/b/test", "operator", 200),
        ("GET", f"{BASE}/b/activity", "viewer", 200),
        ("GET", BASE, None, 401),
    ],
)
async def test_roles(bms_hub: RunningHub, method, path, user, expected):
    await create_connection(bms_hub, "b")
    body = {"external_id": "x"} if path.endswith("mappings") else {}
    status, answer = await call(bms_hub, method, path, body, user=user)
    assert status == expected, answer


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", BASE, {}, 422, "name: required"),
        ("POST", BASE, {"name": "x", "bms_type": "honeywell"}, 422, "bms_type: expected one of ecostruxure"),
        ("POST", BASE, {"name": "x", "colour": "red"}, 422, "colour: unknown field"),
        ("PATCH", f"{BASE}/b", {"enabled": "yes"}, 422, "enabled: expected bool"),
        ("GET", f"{BASE}/nope", None, 404, "no BMS connection 'nope'"),
        ("POST", f"{BASE}/b/mappings", {"point_id": "x"}, 422, "external_id: required"),
        ("POST", f"{BASE}/b/mappings", {"external_id": "x", "point_id": "nope"}, 422, "point_id: no point"),
        (
            "POST",
            f"{BASE}/b/mappings",
            {"external_id": "x", "new_point": {"name": "a/b"}},
            422,
            "new_point.name: expected 1 to 100 letters",
        ),
        (
            "POST",
            f"{BASE}/b/mappings",
            {"external_id": "x", "source_unit": "degC", "new_point": {"units": "kW"}},
            422,
            "units: cannot convert degC (temperature) to kW (power)",
        ),
        ("DELETE", f"{BASE}/b/mappings/99", None, 404, "no mapping '99'"),
        # '²' passes str.isdigit but not int(): each was a 500.
        ("DELETE", f"{BASE}/b/mappings/%C2%B2", None, 404, "no mapping '²'"),
        ("GET", f"{BASE}/b/activity?limit=%C2%B2", None, 400, "limit: expected an integer between 1 and"),
        ("GET", f"{BASE}/b/activity?offset=" + "9" * 5000, None, 400, "offset: expected an integer between"),
        ("GET", f"{BASE}/b/activity?type=boot", None, 400, "type: expected one of message_received"),
        ("GET", f"{BASE}/b/activity?from=noon", None, 400, "from: expected an ISO 8601 time"),
        ("GET", f"{BASE}/b/activity?page=2", None, 400, "page: unknown parameter"),
    ],
)
async def test_bad_requests__name_the_field(bms_hub: RunningHub, method, path, body, status, error):
    await create_connection(bms_hub, "b")
    answer_status, answer = (
        await call(bms_hub, method, path, body) if body is not None else await call(bms_hub, method, path)
    )
    assert answer_status == status, answer
    assert error in answer["error"]


async def test_bad_json__400(bms_hub: RunningHub):
    status, answer = await call(bms_hub, "POST", BASE, data=b"{nope")
    assert status == 400
    assert answer["error"].startswith("invalid JSON")


async def test_mappings__one_click_attach_edit_delete(bms_hub: RunningHub):
    creds = await create_connection(bms_hub, "b")
    base = f"{BASE}/{creds.connection_id}"
    async with bms_client(bms_hub, creds, "tcp") as client:
        message = {"readings": [reading("AHU1/SAT", 55.4, 1_772_366_400, "degF"), reading("AHU1/RAT", 70, 1)]}
        await client.publish(creds.topic, payload(message), qos=1)
    _, unmapped = await call(bms_hub, "GET", f"{base}/unmapped")
    sat = next(u for u in unmapped["unmapped"] if u["external_id"] == "AHU1/SAT")
    assert (sat["count"], sat["last_value"], sat["last_unit"], sat["suggested_point"]) == (
        1,
        55.4,
        "degF",
        "AHU1_SAT",
    )

    status, one_click = await call(bms_hub, "POST", f"{base}/mappings", {"external_id": "AHU1/SAT"})
    assert status == 201, one_click
    assert one_click == {
        "id": one_click["id"],
        "external_id": "AHU1/SAT",
        "point_id": "bms-b.AHU1_SAT",
        "source_unit": "degF",
        "units": "degF",
        "kind": "analog",
        "created_point": True,
    }
    point = bms_hub.hub.points.point("bms-b.AHU1_SAT")
    assert (point.device_id, point.units, point.address) == ("bms-b", "degF", "AHU1/SAT")
    _, unmapped = await call(bms_hub, "GET", f"{base}/unmapped")
    assert [u["external_id"] for u in unmapped["unmapped"]] == ["AHU1/RAT"]
    assert (await call(bms_hub, "POST", f"{base}/mappings", {"external_id": "AHU1/SAT"}))[0] == 409

    status, attached = await call(
        bms_hub, "POST", f"{base}/mappings", {"external_id": "AHU1/RAT", "point_id": "bms-b.AHU1_SAT"}
    )
    assert (status, attached["created_point"], attached["units"]) == (201, False, "degF")
    status, edited = await call(bms_hub, "PATCH", f"{base}/mappings/{one_click['id']}", {"units": "degC"})
    assert (status, edited["units"], edited["source_unit"]) == (200, "degC", "degF")
    assert bms_hub.hub.points.point("bms-b.AHU1_SAT").units == "degC"

    _, listed = await call(bms_hub, "GET", f"{base}/mappings")
    assert [m["external_id"] for m in listed["mappings"]] == ["AHU1/SAT", "AHU1/RAT"]
    status, _ = await call(bms_hub, "DELETE", f"{base}/mappings/{one_click['id']}")
    assert status == 200
    assert "bms-b.AHU1_SAT" not in {p.id for p in bms_hub.hub.points.points()}
    _, log = await call(bms_hub, "GET", f"{base}/activity?type={EventType.CONFIG_CHANGED}")
    assert log["entries"][0]["message"] == "mapping of 'AHU1/SAT' deleted by admin"


async def test_restart__connections_mappings_unmapped_and_credentials_kept(start_hub: StartHub, tmp_path):
    first = await start_hub(make_config(tmp_path))
    creds = await create_connection(first)
    base = f"{BASE}/{creds.connection_id}"
    await call(first, "POST", f"{base}/mappings", {"external_id": "M1", "new_point": {"units": "kW"}})
    async with bms_client(first, creds) as client:
        await client.publish(creds.topic, payload(reading("other", 5, 1)), qos=1)
    await first.server.close()

    second = await start_hub(make_config(tmp_path))
    _, mappings = await call(second, "GET", f"{base}/mappings")
    assert [m["point_id"] for m in mappings["mappings"]] == [f"bms-{creds.connection_id}.M1"]
    assert second.hub.points.point(f"bms-{creds.connection_id}.M1").units == "kW"
    _, unmapped = await call(second, "GET", f"{base}/unmapped")
    assert [(u["external_id"], u["count"]) for u in unmapped["unmapped"]] == [("other", 1)]
    async with bms_client(second, creds, "tcp") as client:
        await client.publish(creds.topic, payload(reading("M1", 2.5, 1_772_366_400)), qos=1)
    assert second.hub.points.latest(f"bms-{creds.connection_id}.M1").value == 2.5
