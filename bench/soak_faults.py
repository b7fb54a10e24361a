"""The soak's faults: each one injected into the running site, then waited on until the hub recovered.

A fault returns what happened: whether the hub recovered within the time it was given, how long that
took, a detail line, and the spans whose device values nobody could read (excluded from the
samples-lost check, bench/site_check.py).
"""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiomqtt
from mqtt_client import ClientSpec, ConnectionClosed, Endpoint, Transport, encode_publish, open_client
from site_check import GRACE_S, Span
from site_hub import HOST, OPERATOR, OPERATOR_PASSWORD, PREFIX
from site_run import Site

COMMIT_S = 5.0  # the store's commit interval: a kill -9 loses at most this much
FLOOD_CLIENTS = 100
FLOOD_PUBLISHES = 50
FLOOD_BAD_LOGINS = 50
MALFORMED = 100
COMMANDS = ("get_config", "start_monitoring", "stop_monitoring", "set_value_to_point", "reboot")
_BAD_REQUESTS = (b"{", b"[]", b'{"command_id": 5}', b'{"command_id": "bad-%d", "colour": "red"}', b"\x00\xff")
_CHECK_S = 1.0


@dataclass
class Outcome:
    """One fault as the report shows it."""

    name: str
    at: float  # epoch s
    recovered_s: float | None  # None: not within the time given
    detail: str = ""
    excluded: list[Span] = field(default_factory=list)


async def _until(check: Callable[[], Awaitable[bool]], began: float, within: float) -> float | None:
    """Seconds from `began` (monotonic) until `check()` holds, None if it does not within `within` s."""
    while time.monotonic() - began < within:
        try:
            if await check():
                return time.monotonic() - began
        except (RuntimeError, OSError, TimeoutError):
            pass  # the hub is not answering yet
        await asyncio.sleep(_CHECK_S)
    return None


async def _device_status(site: Site, device_id: str) -> str | None:
    assert site.api is not None
    devices = (await site.api.call("GET", "/api/devices"))["devices"]
    return next((d["status"] for d in devices if d["id"] == device_id), None)


async def device_gone(site: Site, hold: float, within: float, turn: int) -> Outcome:
    """A BACnet device switched off for `hold` s, then on again (a fresh start: it forgot its state)."""
    instance = site.instances[turn % len(site.instances)]
    at = time.time()
    await site.device("stop", instance)

    async def offline() -> bool:
        return await _device_status(site, str(instance)) == "offline"

    seen_offline = await _until(offline, time.monotonic(), hold)
    await asyncio.sleep(max(0.0, hold - (time.time() - at)))
    await site.device("start", instance)
    back = time.monotonic()

    async def online() -> bool:
        return await _device_status(site, str(instance)) == "online"

    recovered = await _until(online, back, within)
    detail = f"device {instance}: " + (
        f"seen offline after {seen_offline:.0f} s" if seen_offline is not None else "never seen offline"
    )
    return Outcome("BACnet device gone", at, recovered, detail, [Span(at, time.time(), instance)])


async def mosquitto_restart(site: Site, hold: float, within: float, turn: int) -> Outcome:
    """The upstream broker down for `hold` s: the bridge spools, reconnects and drains its spool."""
    before = await _bridge(site)
    baseline = max(int(before.get("spool_depth") or 0), 50)
    at = time.time()
    await site.mosquitto.stop()
    peak = 0
    began = time.monotonic()
    while time.monotonic() - began < hold:
        peak = max(peak, int((await _bridge(site)).get("spool_depth") or 0))
        await asyncio.sleep(_CHECK_S)
    await site.mosquitto.start()

    async def drained() -> bool:
        bridge = await _bridge(site)
        return bridge.get("state") == "connected" and int(bridge.get("spool_depth") or 0) <= baseline

    recovered = await _until(drained, time.monotonic(), within)
    dropped = (await _bridge(site)).get("spool_dropped")
    return Outcome(
        "Mosquitto restarted", at, recovered, f"spool peaked at {peak} messages, dropped {dropped}"
    )


async def _bridge(site: Site) -> dict:
    assert site.api is not None
    return (await site.api.health() or {}).get("components", {}).get("bridge", {})


async def client_flood(site: Site, hold: float, within: float, turn: int) -> Outcome:
    """Many clients at once: logins with unknown users, and clients publishing where they may not."""
    assert site.hub is not None
    endpoint = Endpoint(HOST, site.hub.port, Transport.WS)
    at = time.time()
    before = await _broker(site)

    async def one(n: int) -> int:
        spec = ClientSpec(f"flood-{turn}-{n}", OPERATOR, OPERATOR_PASSWORD, "")
        try:
            client = await open_client(endpoint, spec)
        except (OSError, ConnectionError, ConnectionClosed, TimeoutError):
            return 0
        topic = f"{PREFIX}flood/{n}".encode()  # outside the operator's publish filters: refused
        for m in range(FLOOD_PUBLISHES):
            client.send(encode_publish(topic, b'{"n": %d}' % m, 0))
        client.close()
        return 1

    async def bad_login(n: int) -> int:
        try:
            client = await open_client(
                endpoint, ClientSpec(f"intruder-{turn}-{n}", f"intruder-{n}", "wrong", "")
            )
        except (OSError, ConnectionError, ConnectionClosed, TimeoutError):
            return 1  # refused, as it should be
        client.close()
        return 0

    results = await asyncio.gather(
        *(one(n) for n in range(FLOOD_CLIENTS)), *(bad_login(n) for n in range(FLOOD_BAD_LOGINS))
    )
    connected, refused = sum(results[:FLOOD_CLIENTS]), sum(results[FLOOD_CLIENTS:])
    clients_before = int(before.get("clients", 0))

    async def settled() -> bool:
        return int((await _broker(site)).get("clients", 1 << 30)) <= clients_before

    recovered = await _until(settled, time.monotonic(), within)
    after = await _broker(site)
    refused_publishes = int(after.get("publish_refused", 0)) - int(before.get("publish_refused", 0))
    return Outcome(
        "MQTT client flood", at, recovered,
        f"{connected}/{FLOOD_CLIENTS} clients x {FLOOD_PUBLISHES} refused publishes "
        f"({refused_publishes} counted refused), {refused}/{FLOOD_BAD_LOGINS} bad logins refused",
    )  # fmt: skip


async def _broker(site: Site) -> dict:
    assert site.api is not None
    return (await site.api.health() or {}).get("components", {}).get("broker", {})


async def malformed_burst(site: Site, hold: float, within: float, turn: int) -> Outcome:
    """Malformed payloads on the BMS namespace and on the hub's command topics: each refused, none fatal."""
    assert site.api is not None
    assert site.clients is not None
    assert site.hub is not None
    at = time.time()
    stats = f"/api/bms/connections/{site.bms['id']}/stats"
    rejected_before = (await site.api.call("GET", stats)).get("rejected_total", 0)
    site.clients.send(f"malformed {MALFORMED}")
    answered = 0
    async with aiomqtt.Client(
        HOST, site.hub.port, transport="websockets", websocket_path="/mqtt",
        username=OPERATOR, password=OPERATOR_PASSWORD, identifier=f"soak-malformed-{turn}",
    ) as mqtt:  # fmt: skip
        await mqtt.subscribe(f"{PREFIX}command/+/response", qos=1)
        for n in range(MALFORMED):
            command = COMMANDS[n % len(COMMANDS)]
            bad = _BAD_REQUESTS[n % len(_BAD_REQUESTS)]
            bad = bad % (turn * MALFORMED + n) if b"%d" in bad else bad  # a new command id each time
            await mqtt.publish(f"{PREFIX}command/{command}/request", bad, qos=1)
        began = time.monotonic()
        try:
            async with asyncio.timeout(within):
                async for message in mqtt.messages:
                    if json.loads(bytes(message.payload)).get("status") == "error":  # type: ignore[arg-type]
                        answered += 1
                    if answered >= MALFORMED:
                        break
        except TimeoutError:
            pass

    async def bms_rejected() -> bool:
        rejected = (await site.api.call("GET", stats)).get("rejected_total", 0)  # type: ignore[union-attr]
        return rejected - rejected_before >= MALFORMED

    rejected = await _until(bms_rejected, began, within)
    recovered = None if rejected is None or answered < MALFORMED else time.monotonic() - began
    now = (await site.api.call("GET", stats)).get("rejected_total", 0)
    return Outcome(
        "malformed payloads", at, recovered,
        f"{answered}/{MALFORMED} bad command requests answered with an error; "
        f"{now - rejected_before}/{MALFORMED} bad BMS messages rejected",
    )  # fmt: skip


async def kill_hub(site: Site, hold: float, within: float, turn: int) -> Outcome:
    """kill -9 of the hub, restarted at once; recovered when every device is polled again."""
    assert site.hub is not None
    at = time.time()
    await site.hub.kill()
    await site.hub.start()
    recovered = await site.wait_polled(within)
    # values read in the last commit interval before the kill were never committed: excluded too
    span = Span(at - COMMIT_S - GRACE_S, time.time())
    detail = "every device polled again" if recovered is not None else "not every device polled again"
    return Outcome("kill -9 of the hub", at, recovered, detail, [span])


FAULTS = (device_gone, mosquitto_restart, client_flood, malformed_burst, kill_hub)
