"""The site benchmark's MQTT clients, in their own process so their cost is not the hub's.

    python bench/site_clients.py --port 8080 --subscribers 50 --devices 5001,5002 --bms-rate 10 ...

- Subscribers: lean WebSocket clients (bench/mqtt_client.py) logged in as the dashboard user; client
  i subscribes to `bulk` and to the retained per-point topics of one device (`{prefix}{device}/#`),
  as a dashboard of one piece of equipment does.
- The external BMS: one client with the connection's credentials publishing `--bms-rate` readings a
  second at QoS 1, one reading a message, cycling over `--bms-points` external ids.
Every client reconnects (after 1 s) when the hub goes away. Every 2 s and on SIGTERM it prints one
JSON line: messages received, connections made, BMS readings sent and acknowledged. A line
`malformed N` on standard input makes the BMS client send N malformed messages (the soak's fault).
"""

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mqtt_client import (
    PINGREQ,
    ClientSpec,
    ConnectionClosed,
    Endpoint,
    MqttClient,
    Transport,
    encode_publish,
    open_client,
    subscribe,
)
from site_hub import DASHBOARD, DASHBOARD_PASSWORD, HOST, PREFIX

RETRY_S = 1.0
MALFORMED = (
    b"not json",
    b'{"point_id": "AHU1/SupplyTemp"}',
    b'{"point_id": 7, "value": "x", "timestamp": "yesterday"}',
    b'{"readings": "none"}',
    b"[1, 2, 3]",
    b"\xff\xfe\x00",
    b'{"point_id": "' + b"x" * 500 + b'", "value": 1, "timestamp": 0}',
)
REPORT_S = 2.0
_PING_S = 20.0


class Figures:
    """What the clients did, printed as JSON."""

    def __init__(self) -> None:
        self.subscribers: list[MqttClient | None] = []
        self.received_before = 0  # by connections already closed
        self.connects = 0
        self.bms_sent = 0
        self.bms_acked = 0
        self.malformed_pending = 0
        self.malformed_sent = 0

    def line(self) -> str:
        live = sum(c.received for c in self.subscribers if c is not None)
        return json.dumps(
            {
                "at": time.time(),
                "received": self.received_before + live,
                "connected": sum(1 for c in self.subscribers if c is not None and not c.is_closed),
                "connects": self.connects,
                "bms_sent": self.bms_sent,
                "bms_acked": self.bms_acked,
                "malformed_sent": self.malformed_sent,
            }
        )


async def _connected(endpoint: Endpoint, spec: ClientSpec, figures: Figures) -> MqttClient:
    """Connect, retrying every RETRY_S while the hub is away."""
    while True:
        try:
            client = await open_client(endpoint, spec)
        except (OSError, ConnectionError, ConnectionClosed, TimeoutError):
            await asyncio.sleep(RETRY_S)
            continue
        figures.connects += 1
        return client


async def subscriber(endpoint: Endpoint, index: int, device: str, figures: Figures) -> None:
    spec = ClientSpec(f"site-dash-{index}", DASHBOARD, DASHBOARD_PASSWORD, "")
    while True:
        client = await _connected(endpoint, spec, figures)
        figures.subscribers[index] = client
        try:
            await subscribe(client, f"{PREFIX}{device}/#", qos=1)
            await subscribe(client, f"{PREFIX}bulk", qos=0)
            while not client.is_closed:
                await asyncio.wait([client.closed], timeout=_PING_S)
                client.send(PINGREQ)
        except (ConnectionClosed, TimeoutError, PermissionError):
            pass
        client.close()
        figures.received_before += client.received
        figures.subscribers[index] = None
        await asyncio.sleep(RETRY_S)


async def bms(endpoint: Endpoint, args: argparse.Namespace, figures: Figures) -> None:
    spec = ClientSpec(args.bms_username, args.bms_username, args.bms_password, args.bms_topic)
    topic = args.bms_topic.encode()
    packet_id = 0
    while True:
        client = await _connected(endpoint, spec, figures)
        acked_before = client.acked
        try:
            while not client.is_closed:
                began = time.monotonic()
                packet_id = packet_id % 65535 + 1
                if figures.malformed_pending:
                    figures.malformed_pending -= 1
                    bad = MALFORMED[figures.malformed_sent % len(MALFORMED)]
                    client.send(encode_publish(topic, bad, 1, packet_id))
                    figures.malformed_sent += 1
                    continue
                reading = {
                    "point_id": f"AHU{figures.bms_sent % args.bms_points + 1}/SupplyTemp",
                    "value": round(12 + (figures.bms_sent % 70) / 10, 1),
                    "unit": "degC",
                    "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                }
                client.send(encode_publish(topic, json.dumps(reading).encode(), 1, packet_id))
                figures.bms_sent += 1
                figures.bms_acked += client.acked - acked_before
                acked_before = client.acked
                await asyncio.sleep(max(0.0, 1 / args.bms_rate - (time.monotonic() - began)))
        except ConnectionClosed:
            pass
        figures.bms_acked += client.acked - acked_before
        client.close()
        await asyncio.sleep(RETRY_S)


async def commands(figures: Figures) -> None:
    """`malformed N` on standard input."""
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        verb, _, count = line.decode().strip().partition(" ")
        if verb == "malformed" and count.isdigit():
            figures.malformed_pending += int(count)


async def main(args: argparse.Namespace) -> None:
    endpoint = Endpoint(HOST, args.port, Transport.WS)
    figures = Figures()
    devices = args.devices.split(",")
    figures.subscribers = [None] * args.subscribers
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    tasks = [
        asyncio.create_task(subscriber(endpoint, n, devices[n % len(devices)], figures))
        for n in range(args.subscribers)
    ]
    if args.bms_username:
        tasks.append(asyncio.create_task(bms(endpoint, args, figures)))
    tasks.append(asyncio.create_task(commands(figures)))
    while not stop.is_set():
        print(figures.line(), flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), REPORT_S)
    print(figures.line(), flush=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--port", type=int, required=True, help="the hub's HTTP port")
    cli.add_argument("--subscribers", type=int, default=50)
    cli.add_argument(
        "--devices", required=True, help="device ids, comma-separated, one per subscriber in turn"
    )
    cli.add_argument("--bms-username", default="")
    cli.add_argument("--bms-password", default="")
    cli.add_argument("--bms-topic", default="")
    cli.add_argument("--bms-rate", type=float, default=10.0, help="readings per second")
    cli.add_argument("--bms-points", type=int, default=10, help="external point ids, in turn")
    return cli


if __name__ == "__main__":
    asyncio.run(main(parser().parse_args()))
