"""What a connection's credentials allow on the broker; regenerating or disabling them acts at once."""

import asyncio
import hashlib
import sqlite3

import pytest

from tests.bms.conftest import create_connection, payload
from tests.conftest import TRANSPORTS, RunningHub
from tests.http.helpers import call
from tests.mqtt.helpers import SUBACK_FAILURE, WAIT_S, ConnackCode, connected, login, raw_client


def _port(running: RunningHub, transport: str) -> int:
    return running.http_port if transport == "websockets" else running.tcp_port


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_publishing_outside_the_namespace__refused(bms_hub: RunningHub, transport):
    creds = await create_connection(bms_hub, "Tower A")
    other = await create_connection(bms_hub, "Tower B")
    port = _port(bms_hub, transport)
    async with (
        connected(transport, port, "watcher", **login("admin")) as admin,
        connected(transport, port, creds.client_id, user=creds.username, password=creds.password) as bms,
    ):
        await admin.subscribe(("#", 0))
        refused_before = bms_hub.hub.broker.broker.stats.publish_refused
        message = payload({"point_id": "X", "value": 1, "timestamp": 1_700_000_000})
        await bms.publish(other.topic, message, qos=1)
        await bms.publish("iot/global/acme/hq/hub-1/command/reboot/request", b"{}", qos=1)
        await bms.publish(creds.topic, message, qos=1)  # allowed: the marker
        async with asyncio.timeout(WAIT_S):
            received = await admin.publishes_until(creds.topic)

    assert [
        m.topic for m in received if m.topic.startswith(("bms/", "iot/global/acme/hq/hub-1/command"))
    ] == [creds.topic]
    assert bms_hub.hub.broker.broker.stats.publish_refused - refused_before == 2
    _status, unmapped = await call(bms_hub, "GET", f"/api/bms/connections/{other.connection_id}/unmapped")
    assert unmapped["unmapped"] == []


async def test_subscribing_outside_the_namespace__refused(bms_hub: RunningHub):
    creds = await create_connection(bms_hub, "Tower A")
    port = _port(bms_hub, "tcp")
    async with connected("tcp", port, creds.client_id, user=creds.username, password=creds.password) as bms:
        codes = await bms.subscribe(
            ("#", 1), ("bms/other/#", 1), ("iot/#", 0), (f"bms/{creds.connection_id}/#", 1)
        )
    assert codes == (SUBACK_FAILURE, SUBACK_FAILURE, SUBACK_FAILURE, 1)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_regenerate__old_credentials_refused_and_old_session_dropped(bms_hub: RunningHub, transport):
    creds = await create_connection(bms_hub)
    base = f"/api/bms/connections/{creds.connection_id}"
    port = _port(bms_hub, transport)
    async with connected(
        transport, port, creds.client_id, user=creds.username, password=creds.password
    ) as bms:
        status, fresh = await call(bms_hub, "POST", f"{base}/credentials/regenerate")
        assert status == 200, fresh
        async with asyncio.timeout(WAIT_S):
            await bms.wait_closed()

    assert fresh["password"] != creds.password
    assert fresh["username"] == creds.username
    async with raw_client(transport, port) as again:
        connack = await again.connect(creds.client_id, username=creds.username, password=creds.password)
    assert connack.code == ConnackCode.BAD_USERNAME_PASSWORD
    async with connected(transport, port, creds.client_id, user=creds.username, password=fresh["password"]):
        status, log = await call(
            bms_hub, "GET", f"{base}/activity?type=connection_established,connection_lost"
        )
    kinds = [(e["type"], e["detail"].get("reason")) for e in reversed(log["entries"])]
    assert kinds == [
        ("connection_established", None),
        ("connection_lost", "its credentials were regenerated"),
        ("connection_established", None),
    ]


async def test_disabled_connection__refused_and_dropped(bms_hub: RunningHub):
    creds = await create_connection(bms_hub)
    base = f"/api/bms/connections/{creds.connection_id}"
    port = _port(bms_hub, "tcp")
    async with connected("tcp", port, creds.client_id, user=creds.username, password=creds.password) as bms:
        status, body = await call(bms_hub, "PATCH", base, {"enabled": False})
        assert (status, body["enabled"]) == (200, False)
        async with asyncio.timeout(WAIT_S):
            await bms.wait_closed()
    async with raw_client("tcp", port) as again:
        connack = await again.connect(creds.client_id, username=creds.username, password=creds.password)
    assert connack.code == ConnackCode.BAD_USERNAME_PASSWORD


async def test_password__hashed_and_encrypted_at_rest_revealed_to_admins_only(bms_hub: RunningHub):
    creds = await create_connection(bms_hub)
    base = f"/api/bms/connections/{creds.connection_id}"
    with sqlite3.connect(bms_hub.hub.store.path) as db:
        (hashed, secret) = db.execute("SELECT password_hash, password_secret FROM bms_connections").fetchone()
    assert hashed == hashlib.sha256(creds.password.encode()).hexdigest()
    assert creds.password not in secret
    raw = bms_hub.hub.store.path.read_bytes() + bms_hub.hub.store.path.with_name("hub.db-wal").read_bytes()
    assert creds.password.encode() not in raw

    assert (await call(bms_hub, "POST", f"{base}/credentials/reveal", user="operator"))[0] == 403
    status, revealed = await call(bms_hub, "POST", f"{base}/credentials/reveal")
    assert (status, revealed["password"]) == (200, creds.password)
    status, shown = await call(bms_hub, "GET", base, user="viewer")
    assert status == 200
    assert "password" not in shown["credentials"]
    status, log = await call(bms_hub, "GET", f"{base}/activity?type=config_changed")
    assert log["entries"][0]["message"] == "password revealed by admin"
