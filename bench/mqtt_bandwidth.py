"""MQTT contract benchmark: bytes per minute on the upstream link, and the bridge's replay rate.

Run from the repository root:

    .venv/bin/python bench/mqtt_bandwidth.py            # 5 simulated minutes, 3 outages
    .venv/bin/python bench/mqtt_bandwidth.py --quick    # 2 minutes, 1 outage

Method
- The real hub in this process (no HTTP), bridged over TCP to a real Mosquitto
  (/usr/sbin/mosquitto on a free loopback port) through a counting TCP proxy: the bytes are those
  of the upstream link, MQTT framing included, in both directions.
- 100 points (10 devices x 10), each changing on every poll (the worst case: no deadband holds a
  change back), polled every 30 s, bulk every 60 s, heartbeat every 30 s, default topic mapping
  (everything under the hub's prefix goes up). One minute is simulated without waiting: two poll
  rounds of samples through the registry (per-point retained topics, QoS 1), one bulk batch
  (QoS 0), two heartbeats; then the script waits until the bridge has sent everything and reads
  the proxy's counters. Median over `--minutes` minutes.
- Replay: Mosquitto stopped, then the QoS 1 volume of a 10-minute outage published (2 poll
  rounds x 100 points + 2 heartbeats per minute; bulk is QoS 0 and is not kept while offline),
  written to the spool; Mosquitto started again; the time from the bridge's reconnection until the
  spool is empty gives messages/s. Median over `--outages` runs.
Nothing is asserted: the summary says "meets" or "over" against the 50 KB/min budget.
"""

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hub.bridge import BridgeState, BridgeStateChanged  # noqa: E402
from hub.config import BridgeConfig, FlowsConfig, HubConfig, IdentityConfig, LogLevel, MqttApiConfig  # noqa: E402
from hub.core import Hub  # noqa: E402
from hub.points import Device, Point, Sample  # noqa: E402
from tests.mosquitto import Mosquitto  # noqa: E402
from tests.tcp_proxy import TcpProxy  # noqa: E402

DEVICES, POINTS_PER_DEVICE = 10, 10
POLLS_PER_MINUTE, HEARTBEATS_PER_MINUTE = 2, 2  # polled every 30 s, heartbeat every 30 s
OUTAGE_MINUTES = 10
BUDGET_KB_PER_MIN = 50.0


def build_points(hub: Hub) -> list[str]:
    """Register the bench's devices and points (no integration polls them: the script makes the samples)."""
    ids = []
    for d in range(1, DEVICES + 1):
        device = Device(
            f"ahu-{d}", f"Air handler {d}", "bench", address=f"10.0.0.{d}:47808", poll_interval=30
        )
        points = [
            Point(f"ahu-{d}.analogInput.{n}", device.id, f"Sensor {n}", units="°C")
            for n in range(1, POINTS_PER_DEVICE + 1)
        ]
        hub.points.add_device(device, points)
        ids += [p.id for p in points]
    return ids


class Bench:
    """One hub bridged through the proxy to Mosquitto."""

    def __init__(self, folder: Path) -> None:
        self.mosquitto = Mosquitto(folder / "mosquitto")
        self.proxy = TcpProxy(self.mosquitto.port)
        self.folder = folder
        self.hub: Hub | None = None
        self.value = 0.0

    async def start(self) -> None:
        await self.mosquitto.start()
        await self.proxy.start()
        bridge = BridgeConfig(
            enabled=True, host="127.0.0.1", port=self.proxy.port, backoff_initial=0.05, backoff_max=0.2
        )
        config = HubConfig(
            data_dir=self.folder / "data",
            flows=FlowsConfig(directories=(self.folder / "flows",)),  # none: telemetry alone
            log_level=LogLevel.WARNING,
            identity=IdentityConfig("bench", "lab", "hub-1"),
            mqtt_api=MqttApiConfig(batch_interval=3600),  # the script flushes each simulated minute
            bridge=bridge,
        )
        config = dataclasses.replace(config, mqtt=dataclasses.replace(config.mqtt, heartbeat_interval=86400))
        self.hub = Hub(config)
        await self.hub.start()
        await self.state(BridgeState.CONNECTED)
        self.point_ids = build_points(self.hub)
        await self.settle()

    async def stop(self) -> None:
        if self.hub is not None:
            await self.hub.stop()
        await self.proxy.stop()
        await self.mosquitto.stop()

    async def state(self, state: BridgeState) -> None:
        hub = self.hub
        assert hub is not None
        assert hub.bridge is not None
        events: asyncio.Queue[BridgeStateChanged] = asyncio.Queue()
        unsubscribe = hub.bus.subscribe(BridgeStateChanged, events.put_nowait)
        try:
            while hub.bridge.state != state:
                await events.get()
        finally:
            unsubscribe()

    async def settle(self) -> None:
        """Wait until the bridge has sent everything (spool empty, QoS 0 queue empty)."""
        assert self.hub is not None
        assert self.hub.bridge is not None
        await self.hub.bridge.spooled()
        await self.hub.bridge.flush(60)

    def poll_round(self) -> None:
        """Every point gets a new value, as if each changed beyond its deadband since the last poll."""
        assert self.hub is not None
        self.value += 0.37
        now = time.time()
        for n, point_id in enumerate(self.point_ids):
            self.hub.points.update(point_id, Sample(round(18 + self.value + n * 0.01, 2), now))

    def minute(self, *, with_bulk: bool = True) -> None:
        assert self.hub is not None
        assert self.hub.mqtt_api is not None
        status = self.hub._status
        assert status is not None
        for _ in range(POLLS_PER_MINUTE):
            self.poll_round()
        for _ in range(HEARTBEATS_PER_MINUTE):
            status.publish_heartbeat()
        if with_bulk:
            self.hub.mqtt_api.telemetry.flush()

    async def measure_minute(self) -> tuple[int, int]:
        """Bytes up and down for one simulated minute."""
        up, down = self.proxy.bytes_up, self.proxy.bytes_down
        self.minute()
        await self.settle()
        return self.proxy.bytes_up - up, self.proxy.bytes_down - down

    async def outage(self) -> tuple[int, float]:
        """Messages spooled during a simulated outage, and the replay rate (messages/s) after it."""
        hub = self.hub
        assert hub is not None
        assert hub.bridge is not None
        assert hub.mqtt_api is not None
        await self.mosquitto.stop()
        await self.state(BridgeState.DISCONNECTED)
        for _ in range(OUTAGE_MINUTES):
            self.minute(with_bulk=False)
        hub.mqtt_api.telemetry.flush()  # dropped while offline (QoS 0), counted by the bridge
        await hub.bridge.spooled()
        spooled = hub.bridge.spool.depth
        await self.mosquitto.start()
        await self.state(BridgeState.CONNECTED)
        started = time.perf_counter()
        await hub.bridge.flush(600)
        elapsed = time.perf_counter() - started
        assert hub.bridge.spool.depth == 0, "the spool did not drain"
        return spooled, spooled / elapsed


async def run(minutes: int, outages: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-mqtt-") as tmp:
        bench = Bench(Path(tmp))
        await bench.start()
        try:
            await bench.measure_minute()  # warm-up: first retained topics, connections settled
            figures = [await bench.measure_minute() for _ in range(minutes)]
            replays = [await bench.outage() for _ in range(outages)]
        finally:
            await bench.stop()
    up = statistics.median(f[0] for f in figures) / 1000
    down = statistics.median(f[1] for f in figures) / 1000
    points = DEVICES * POINTS_PER_DEVICE
    print(f"Upstream link, {points} points polled every 30 s (all changing), bulk every 60 s, heartbeat 30 s")
    print(f"  per minute (median of {minutes}): {up:.1f} KB up, {down:.1f} KB down (acks)")
    print(f"  runs (KB up): {', '.join(f'{f[0] / 1000:.1f}' for f in figures)}")
    verdict = "meets" if up < BUDGET_KB_PER_MIN else "over"
    print(f"  budget < {BUDGET_KB_PER_MIN:g} KB/min: {verdict}")
    rates = [rate for _, rate in replays]
    print(f"Replay after a {OUTAGE_MINUTES}-minute outage ({replays[0][0]} QoS 1 messages spooled)")
    print(f"  rate (median of {outages}): {statistics.median(rates):,.0f} messages/s")
    print(f"  runs: {', '.join(f'{r:,.0f}' for r in rates)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 minutes and 1 outage")
    parser.add_argument("--minutes", type=int, default=5)
    parser.add_argument("--outages", type=int, default=3)
    args = parser.parse_args()
    minutes, outages = (2, 1) if args.quick else (args.minutes, args.outages)
    asyncio.run(run(minutes, outages))


if __name__ == "__main__":
    main()
