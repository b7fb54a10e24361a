"""BMS ingest benchmark: readings/s from an MQTT client with a connection's credentials into the store.

Run from the repository root:

    .venv/bin/python bench/bms.py            # 3 runs (median printed)
    .venv/bin/python bench/bms.py --runs 1

Method: a real hub (broker with its TCP listener on loopback, store in a temporary folder) with
one BMS connection whose 100 external points are mapped to created hub points. One aiomqtt client
logs in with the connection's generated credentials and publishes batches of 100 readings (one per
point) at QoS 1, one message in flight at a time, each batch 30 minutes after the previous one (a
new bucket, so every reading is a new sample). Timed from the first publish until the store has
committed every sample (`Store.flush()`), and checked: the samples written must equal the readings
sent. The client runs in the hub's process and event loop, so the figure includes its own cost:
a BMS on another machine leaves the hub more CPU. Nothing is asserted; the figures are printed.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiomqtt

from hub.bms.model import BmsType, Mapping, Transport
from hub.config import FlowsConfig, HubConfig, IdentityConfig, MqttConfig, TcpListenerConfig
from hub.core import Hub
from hub.points import PointKind

POINTS = 100
MESSAGES = 300
BUCKET_S = 1800


async def one_run(folder: Path) -> float:
    """Readings per second through broker, ingest, points registry and store, for one fresh hub."""
    config = HubConfig(
        data_dir=folder,
        flows=FlowsConfig(directories=(Path(folder) / "flows",)),  # none: the ingest alone is measured
        mqtt=MqttConfig(tcp=TcpListenerConfig(enabled=True, host="127.0.0.1", port=0)),
        identity=IdentityConfig(org_id="bench", site_id="bench", iot_device_id="hub"),
    )
    hub = Hub(config)
    await hub.start()
    try:
        connection, password = await hub.bms.create("Bench", BmsType.GENERIC, Transport.TCP, "", "bench")
        for number in range(POINTS):
            name = f"p{number}"
            point_id = f"{connection.device_id}.{name}"
            mapping = Mapping(0, connection.id, name, point_id, "degC", True, name, "degC", PointKind.ANALOG)
            await hub.bms.add_mapping(mapping, "bench")
        start_ts = time.time() - 23 * 3600  # inside the raw retention, so nothing is purged meanwhile
        messages = [
            json.dumps(
                {
                    "readings": [
                        {"point_id": f"p{n}", "value": float(i + n), "timestamp": start_ts + i * BUCKET_S}
                        for n in range(POINTS)
                    ]
                }
            ).encode()
            for i in range(MESSAGES)
        ]
        written_before = hub.store.samples_written
        client = aiomqtt.Client(
            "127.0.0.1",
            hub.broker.tcp_port or 0,
            identifier=connection.client_id,
            username=connection.username,
            password=password,
        )
        async with client:
            began = time.perf_counter()
            for message in messages:
                await client.publish(connection.topic, message, qos=1)
            await hub.store.flush()
            elapsed = time.perf_counter() - began
        written = hub.store.samples_written - written_before
        if written != POINTS * MESSAGES:
            print(f"  warning: {written} samples written for {POINTS * MESSAGES} readings")
        return POINTS * MESSAGES / elapsed
    finally:
        await hub.stop()


async def main_async(runs: int) -> None:
    rates = []
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-bms-") as folder:
            rate = await one_run(Path(folder))
        rates.append(rate)
        print(f"run {run + 1}: {rate:,.0f} readings/s")
    print(
        f"BMS ingest, {MESSAGES} messages x {POINTS} readings, QoS 1 over TCP, into the store: "
        f"median {statistics.median(rates):,.0f} readings/s over {runs} runs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    asyncio.run(main_async(args.runs))


if __name__ == "__main__":
    main()
