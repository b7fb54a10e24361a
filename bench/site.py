"""Whole-site benchmark: one hub process holding a large simulated site, measured against issue 13's targets.

Run from the repository root (needs Debian's mosquitto and chromium):

    .venv/bin/python bench/site.py                  # 10 minutes measured, full scale
    .venv/bin/python bench/site.py --smoke          # 60 s measured
    .venv/bin/python bench/site.py --scale tiny --duration 8 --json    # what tests/test_site_bench.py runs
    (--poll-interval S: another poll interval; --log FILE: keep the hub's log)

The site (bench/site_run.py; everything on loopback, each part its own process):
- 100 BACnet/IP devices x 100 objects (80 analog inputs, 16 commandable analog values, 4 binary
  values), 25 devices per process, polled every 30 s by the hub's BACnet integration (ReadPropertyMultiple).
  Each analog input takes a new value every 90 s (its own phase): about 90 changes/s over the site.
- One probe BACnet device in this process, with COV (bench/site_probe.py).
- 20 Modbus TCP energy meters behind 4 simulated gateways (pymodbus servers), polled every 30 s.
- 200 flows from the shipped blueprints on the BACnet devices: 100 VAV PID loops (writing a damper
  every 30 s), 50 supply-air resets, 50 fan schedules with proof.
- 50 MQTT subscribers over WebSocket in another process: each subscribes to `bulk` and to one
  device's retained point topics (a dashboard of one piece of equipment).
- An external BMS connection made over REST, publishing 10 readings/s (QoS 1, one a message).
- The bridge to a local Mosquitto with its default filters (everything under the hub's prefix).

Method: after every device was polled once and `--warmup` s, the measured window is `--duration` s.
CPU = the hub process's utime+stime (/proc) over the window, % of one core. RSS = VmRSS at the
window's start and end, sampled every 10 s. Growth: the least-squares slope, per hour and as % of
the start; and, against the target, the mean change between samples one chunk cycle apart (each
point's open history chunk grows for 30 min, then the next starts: RSS rises and falls with it).
Loop lag p99 = the hub's watchdog (/api/health `event_loop.lag_p99_ms`, its last minute),
read every 10 s once a whole minute of the window has passed: the worst and the median reading.
Change → subscriber / → DOM: bench/site_probe.py (its browser and MQTT client start with the warm-up;
only the window's rounds count). Samples lost: bench/site_check.py. Database
growth = slope of hub.db* sizes. Nothing is asserted: each figure is printed next to its target with
"meets" or "below".
"""

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import site_hub  # noqa: E402
from site_check import GRACE_S, Lost, lost_samples  # noqa: E402
from site_probe import Latencies, run_rounds  # noqa: E402
from site_run import Site, keep_log  # noqa: E402

from hub.store_chunks import CHUNK_SAMPLES, CHUNK_SPAN_MS  # noqa: E402
from hub.watchdog import TICK_S, WINDOW  # noqa: E402

SAMPLE_S = 10.0
LAG_WINDOW_S = WINDOW * TICK_S  # the watchdog's percentiles cover its last minute
PROBE_EVERY_S = 2.0
SCALES = {"full": site_hub.Scale(), "tiny": site_hub.TINY}
TARGETS = {
    "cpu": 50.0,  # % of one core
    "rss": 250.0,  # MB
    "rss_growth": 2.0,  # % per hour
    "lag_p99": 20.0,  # ms
    "mqtt_p99": 100.0,  # ms
    "dom_p99": 500.0,  # ms (the UI issue's target)
}


@dataclass
class Window:
    """What was recorded over the measured window."""

    began: float = 0.0  # epoch s
    ended: float = 0.0
    wall: float = 0.0
    cpu: float = 0.0  # % of one core
    series: list[tuple[float, float, float]] = field(default_factory=list)  # (s, RSS MB, database bytes)
    lag_p99: list[float] = field(default_factory=list)
    health: dict = field(default_factory=dict)
    metrics: tuple[dict, dict] = ({}, {})
    clients: tuple[dict, dict] = ({}, {})
    bms: tuple[int, int] = (0, 0)  # readings the BMS had sent and the hub acknowledged: window end, total
    bms_accepted: int = 0  # readings the hub's connection counted, in total
    latencies: Latencies = field(default_factory=Latencies)
    lost: Lost = field(default_factory=Lost)
    ready_s: float | None = None


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value), per hour."""
    if len(points) < 2:
        return 0.0
    return statistics.linear_regression([p[0] for p in points], [p[1] for p in points]).slope * 3600


def chunk_cycle_s(poll_interval: float) -> float:
    """How long each point's open history chunk grows before the next one starts. The hub's RSS
    rises and falls with it (10,000 blobs of up to ~0.8 kB), for all points at once: they started
    together."""
    return min(CHUNK_SAMPLES * poll_interval, CHUNK_SPAN_MS / 1000)


def _same_phase_rates(points: list[tuple[float, float]], cycle_s: float) -> list[tuple[float, float]]:
    """(time of the earlier sample, change per hour) of every pair of samples one chunk cycle apart."""
    step = round(cycle_s / SAMPLE_S)
    pairs = zip(points, points[step:], strict=False)
    return [
        (earlier[0], (later[1] - earlier[1]) / (later[0] - earlier[0]) * 3600) for earlier, later in pairs
    ]


def same_phase_drift_per_hour(points: list[tuple[float, float]], cycle_s: float) -> float | None:
    """Mean change per hour between samples one chunk cycle apart: growth with the cycle's rise and
    fall taken out (a least-squares slope over part of a cycle reads the rise as growth). None when
    the window is shorter than a cycle."""
    rates = _same_phase_rates(points, cycle_s)
    return statistics.fmean(rate for _, rate in rates) if rates else None


def same_phase_drift_by_cycle(points: list[tuple[float, float]], cycle_s: float) -> list[tuple[float, float]]:
    """The same drift for each cycle of the window in turn (pairs grouped by their earlier sample), as
    (MB/h, seconds of phases compared): whether growth is slowing down as bounded buffers fill up."""
    by_cycle: dict[int, list[float]] = {}
    for when, rate in _same_phase_rates(points, cycle_s):
        by_cycle.setdefault(int((when - points[0][0]) // cycle_s), []).append(rate)
    return [(statistics.fmean(rates), len(rates) * SAMPLE_S) for _, rates in sorted(by_cycle.items())]


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def _bms_stats(site: Site) -> dict:
    assert site.api is not None
    try:
        return await site.api.call("GET", f"/api/bms/connections/{site.bms['id']}/stats")
    except (RuntimeError, aiohttp.ClientError, TimeoutError):
        return {}  # the hub did not answer


async def measure(site: Site, duration: float, warmup: float) -> Window:
    """Wait for the site, warm up, then record the window."""
    assert site.api is not None
    assert site.hub is not None
    api, hub = site.api, site.hub
    window = Window()
    window.ready_s = site.ready_s
    _progress(f"hub pid {hub.pid} on port {hub.port}; every device polled after {window.ready_s} s")
    _progress(f"warm-up {warmup:g} s")
    began = time.monotonic() + warmup
    probe = asyncio.create_task(  # the browser and its client start now, outside the window
        run_rounds(api, site.probe_input, began + duration, PROBE_EVERY_S, record_from=began)
    )
    try:
        await asyncio.sleep(warmup)
        _progress(f"measuring {duration:g} s")
        window.metrics = (await api.metrics(), {})
        window.clients = (site.client_figures(), {})
        began = time.monotonic()
        window.began = time.time()
        cpu0 = hub.cpu_seconds()
        while (elapsed := time.monotonic() - began) < duration:
            window.series.append((elapsed, hub.rss_mb(), hub.database_bytes()))
            body = await api.health() or {}
            lag = body.get("components", {}).get("event_loop", {}).get("lag_p99_ms")
            if lag is not None and elapsed >= LAG_WINDOW_S:  # a minute wholly inside the window
                window.lag_p99.append(lag)
            await asyncio.sleep(min(SAMPLE_S, max(0.0, duration - elapsed)))
        window.wall = time.monotonic() - began
        window.ended = time.time()
        window.cpu = 100 * (hub.cpu_seconds() - cpu0) / window.wall
        window.series.append((window.wall, hub.rss_mb(), hub.database_bytes()))
        window.health = await api.health() or {}
        if (lag := window.health.get("components", {}).get("event_loop", {}).get("lag_p99_ms")) is not None:
            window.lag_p99.append(lag)  # the window's last minute
        window.metrics = (window.metrics[0], await api.metrics())
        window.clients = (window.clients[0], site.client_figures())
        window.latencies = await probe
    finally:
        if not probe.done():
            probe.cancel()
            await asyncio.gather(probe, return_exceptions=True)
    await asyncio.sleep(GRACE_S)  # the polls of the last values
    await site.committed_after(time.time())
    assert site.clients is not None
    await site.clients.stop()  # the BMS stops publishing: every reading it sent can be counted
    await asyncio.sleep(1)
    window.bms = (window.clients[1].get("bms_acked", 0), site.client_figures().get("bms_acked", 0))
    window.bms_accepted = (await _bms_stats(site)).get("readings_today", 0)
    _progress("checking the stored history against what the devices held")
    try:
        window.lost = await lost_samples(
            api, site.instances, site.scale.analog_inputs, site.scale.period, window.began, window.ended
        )
    except (RuntimeError, aiohttp.ClientError, TimeoutError) as err:
        window.lost.error = f"the history could not be read: {err!r}"
    return window


def _verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "not measured"
    return "meets" if value < limit else "below"


def _delta(window: Window, name: str) -> float:
    before, after = window.metrics
    return after.get(name, 0.0) - before.get(name, 0.0)


def summary(window: Window, scale: site_hub.Scale) -> dict:
    """Every figure, by name (the JSON output, and what the report prints)."""
    rss0, rss1 = window.series[0][1], window.series[-1][1]
    rss = [(t, r) for t, r, _ in window.series]
    growth = slope_per_hour(rss)
    cycle = chunk_cycle_s(scale.poll_interval)
    drift = same_phase_drift_per_hour(rss, cycle)
    db_growth = slope_per_hour([(t, d / 1e6) for t, _, d in window.series])
    late = window.latencies
    components = window.health.get("components", {})
    return {
        "duration_s": round(window.wall, 1),
        "ready_s": None if window.ready_s is None else round(window.ready_s, 1),
        "points": scale.bacnet_points + 1,
        "cpu_percent": round(window.cpu, 1),
        "rss_start_mb": round(rss0, 1),
        "rss_end_mb": round(rss1, 1),
        "rss_growth_mb_per_h": round(growth, 1),
        "rss_growth_percent_per_h": round(100 * growth / rss0, 2),
        "rss_drift_mb_per_h": None if drift is None else round(drift, 1),
        "rss_drift_percent_per_h": None if drift is None else round(100 * drift / rss0, 2),
        "rss_drift_by_cycle": [
            {"mb_per_h": round(rate, 1), "phases_s": phases}
            for rate, phases in same_phase_drift_by_cycle(rss, cycle)
        ],
        "chunk_cycle_s": cycle,
        "loop_lag_p99_ms": max(window.lag_p99, default=None),
        "loop_lag_p99_median_ms": statistics.median(window.lag_p99) if window.lag_p99 else None,
        "loop_stalls": _delta(window, "bms_hub_event_loop_stalls_total"),
        "mqtt_p50_ms": quantile(late.mqtt_ms, 0.5),
        "mqtt_p99_ms": quantile(late.mqtt_ms, 0.99),
        "mqtt_rounds": len(late.mqtt_ms),
        "mqtt_missed": late.missed_mqtt,
        "dom_p50_ms": quantile(late.dom_ms, 0.5),
        "dom_p99_ms": quantile(late.dom_ms, 0.99),
        "dom_rounds": len(late.dom_ms),
        "dom_missed": late.missed_dom,
        "probe_error": late.error,
        "lost_expected": window.lost.expected,
        "lost": window.lost.missing,
        "lost_examples": window.lost.examples,
        "lost_error": window.lost.error,
        "store_dropped": _delta(window, "bms_hub_store_dropped_samples_total"),
        "bms_readings_per_s": round((window.bms[0] - window.clients[0].get("bms_acked", 0)) / window.wall, 1),
        "bms_readings_acked": window.bms[1],
        "bms_readings_accepted": window.bms_accepted,
        "db_growth_mb_per_h": round(db_growth, 1),
        "db_mb_end": round(window.series[-1][2] / 1e6, 1),
        "points_read_per_s": round(_delta(window, "bms_hub_points_read_total") / window.wall),
        "samples_written_per_s": round(_delta(window, "bms_hub_samples_written_total") / window.wall),
        "poll_read_errors": _delta(window, "bms_hub_poll_read_errors_total"),
        "mqtt_sent_per_s": round(_delta(window, "bms_hub_mqtt_messages_sent_total") / window.wall),
        "mqtt_dropped": _delta(window, "bms_hub_mqtt_messages_dropped_total"),
        "subscribers_connected": window.clients[1].get("connected", 0),
        "subscriber_messages": window.clients[1].get("received", 0) - window.clients[0].get("received", 0),
        "flows_running": window.metrics[1].get('bms_hub_flows{state="running"}', 0),
        "flow_runs": _delta(window, "bms_hub_flow_runs_total"),
        "flow_errors": _delta(window, "bms_hub_flow_run_errors_total"),
        "writes_ok": _delta(window, 'bms_hub_writes_total{outcome="written"}'),
        "writes_not_ok": _delta(window, 'bms_hub_writes_total{outcome="refused"}')
        + _delta(window, 'bms_hub_writes_total{outcome="failed"}'),
        "bridge_state": components.get("bridge", {}).get("state"),
        "bridge_sent": components.get("bridge", {}).get("sent"),
        "bridge_spool_depth": components.get("bridge", {}).get("spool_depth"),
        "devices_online": next(
            (c.get("devices_online") for c in components.values() if "lateness_ms" in c), None
        ),
    }


def report(f: dict, scale: site_hub.Scale) -> str:
    def line(
        label: str, text: str, value: float | None = None, limit: float | None = None, unit: str = ""
    ) -> str:
        target = "" if limit is None else f"   target < {limit:g}{unit}: {_verdict(value, limit)}"
        return f"{label:<34} {text}{target}"

    def ms(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.1f} ms"

    bms_lost = max(0, f["bms_readings_acked"] - f["bms_readings_accepted"])
    lost_ok = "meets" if f["lost"] == 0 and f["store_dropped"] == 0 and bms_lost == 0 else "below"
    lost_ok = "not measured" if f["lost_error"] else lost_ok
    by_cycle = ", ".join(
        f"{c['mb_per_h']:+.1f} MB/h ({c['phases_s'] / 60:.0f} min of phases)" for c in f["rss_drift_by_cycle"]
    )
    return "\n".join(
        [
            f"BMS Hub site benchmark: {scale.bacnet_devices} BACnet devices x "
            f"{scale.analog_inputs + scale.analog_values + scale.binary_values} points (+ probe), "
            f"{scale.modbus_devices} Modbus, {scale.flows} flows, {scale.subscribers} WS subscribers, "
            f"BMS {scale.bms_rate:g} readings/s, bridge to Mosquitto; {os.cpu_count()} CPUs, "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
            f"measured {f['duration_s']:.0f} s after the warm-up; every device was polled "
            + ("NOT within 300 s" if f["ready_s"] is None else f"{f['ready_s']:.0f} s after start"),
            line("hub CPU", f"{f['cpu_percent']:.1f} % of one core", f["cpu_percent"], TARGETS["cpu"], " %"),
            line("RSS start / end", f"{f['rss_start_mb']:.0f} / {f['rss_end_mb']:.0f} MB",
                 f["rss_end_mb"], TARGETS["rss"], " MB"),
            line("RSS growth (least-squares slope)",
                 f"{f['rss_growth_mb_per_h']:+.1f} MB/h ({f['rss_growth_percent_per_h']:+.2f} %/h)"),
            line("RSS growth, same chunk-cycle phase",
                 f"not measured: needs --duration over {f['chunk_cycle_s']:.0f} s"
                 if f["rss_drift_mb_per_h"] is None
                 else f"{f['rss_drift_mb_per_h']:+.1f} MB/h ({f['rss_drift_percent_per_h']:+.2f} %/h)",
                 f["rss_drift_percent_per_h"], TARGETS["rss_growth"], " %/h"),
            *([f"{'':<34} cycle by cycle: {by_cycle}"] if len(f["rss_drift_by_cycle"]) > 1 else []),
            line("event-loop lag p99 (worst minute)",
                 f"{ms(f['loop_lag_p99_ms'])} (median of minutes {ms(f['loop_lag_p99_median_ms'])}, "
                 f"stalls {f['loop_stalls']:.0f})", f["loop_lag_p99_ms"], TARGETS["lag_p99"], " ms"),
            line("change -> MQTT subscriber p99",
                 f"{ms(f['mqtt_p99_ms'])} (p50 {ms(f['mqtt_p50_ms'])}, n={f['mqtt_rounds']}, "
                 f"missed {f['mqtt_missed']}; COV: the poll interval adds nothing)",
                 f["mqtt_p99_ms"], TARGETS["mqtt_p99"], " ms"),
            line("change -> browser DOM p99",
                 f"{ms(f['dom_p99_ms'])} (p50 {ms(f['dom_p50_ms'])}, n={f['dom_rounds']}, "
                 f"missed {f['dom_missed']})",
                 f["dom_p99_ms"], TARGETS["dom_p99"], " ms"),
            f"{'samples lost':<34} {f['lost']} of {f['lost_expected']} device values "
            f"(store dropped {f['store_dropped']:.0f}); BMS readings acknowledged {f['bms_readings_acked']}, "
            f"accepted {f['bms_readings_accepted']} ({f['bms_readings_per_s']:g}/s)   target 0: {lost_ok}",
            *[f"{'':<34} e.g. missing {e}" for e in f["lost_examples"]],
            *([f"{'':<34} NOT CHECKED: {f['lost_error']}"] if f["lost_error"] else []),
            *([f"{'':<34} the probe stopped early: {f['probe_error']}"] if f["probe_error"] else []),
            f"{'database':<34} {f['db_growth_mb_per_h']:+.1f} MB/h, {f['db_mb_end']:.0f} MB at the end",
            f"{'throughput':<34} {f['points_read_per_s']} points read/s, "
            f"{f['samples_written_per_s']} samples written/s, {f['mqtt_sent_per_s']} MQTT messages sent/s "
            f"(dropped {f['mqtt_dropped']:.0f}), "
            f"read errors {f['poll_read_errors']:.0f}",
            f"{'parts':<34} devices online {f['devices_online']}, flows running {f['flows_running']:.0f} "
            f"({f['flow_runs']:.0f} runs, {f['flow_errors']:.0f} errors, writes ok {f['writes_ok']:.0f} / "
            f"not ok {f['writes_not_ok']:.0f}), subscribers {f['subscribers_connected']} "
            f"({f['subscriber_messages']} messages), bridge {f['bridge_state']} (sent {f['bridge_sent']}, "
            f"spool {f['bridge_spool_depth']})",
        ]
    )  # fmt: skip


async def main_async(args: argparse.Namespace) -> int:
    current = asyncio.current_task()
    assert current is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, current.cancel)  # still stop every part
    scale = SCALES[args.scale]
    if args.poll_interval:
        scale = dataclasses.replace(scale, poll_interval=args.poll_interval)
    duration = 60.0 if args.smoke else args.duration
    with tempfile.TemporaryDirectory(prefix="bms-bench-site-") as tmp:
        try:
            async with Site(Path(tmp), scale) as site:
                window = await measure(site, duration, args.warmup)
        except RuntimeError as err:
            print(f"bench failed: {err}", file=sys.stderr)
            return 1
        finally:
            keep_log(Path(tmp), args.log)
    figures = summary(window, scale)
    print(json.dumps(figures) if args.json else report(figures, scale), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="measured seconds (default 600)")
    parser.add_argument("--smoke", action="store_true", help="measure 60 s")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds after every device was polled")
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--poll-interval", type=float, help="override the scale's poll interval (s)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--log", type=Path, help="keep a copy of the hub's log here")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        sys.exit(main())
