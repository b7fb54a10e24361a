"""Polling benchmark: the full hub polling 100 simulated devices x 100 points (10,000 points) every 5 s.

Run from the repository root:

    .venv/bin/python bench/polling.py            # 2 minutes measured (plus start-up and warm-up)
    .venv/bin/python bench/polling.py --quick    # 30 s measured

Method
- The real hub in a subprocess (`python -m hub run --config <tmp>/hub.yaml --port <free port>`, log
  level warning) with the simulator integration scaled out:
  `integrations: {simulator: {scenario: demo, seed: 1, devices: {count: N, points_per_device: M}}}`.
  The simulator's devices poll at the default 5 s interval, so 100 x 100 points is 2,000 point
  reads/s, every read passing through the registry and the bus like any sample.
- Readiness: /api/health answers (200 or 503) and its poller component (the one whose detail has
  `lateness_ms`) shows at least `count` devices, each with a completed cycle; then `--warmup` s.
- CPU: user + system time of the hub process over the measured window, as % of one core. "other"
  is what the rest of the machine used meanwhile (this machine is shared: a busy neighbour shows).
- RSS: VmRSS at the end and the peak (VmHWM) of the hub process.
- Lateness: how long after its due time each poll cycle started, as the poller reports it in its
  health detail over its own recent window (60 s); fetched once per window during the measured
  time (the last fetch may overlap the previous window). The summary takes the worst p99 and max.
- Throughput check: cycles/s and points read/s over the window, and read errors (should be 0).
Nothing is asserted: the summary says "meets" or "below" for each target of the issue.
"""

import argparse
import contextlib
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
INTERVAL_S = 5.0  # the simulator's (and Device's) default poll interval
_START_TIMEOUT_S = 120.0
_UNWIRED_S = 10.0  # health answering this long without a poller component: the hub does not poll
_TARGETS = (("CPU", 25.0, "% of one core"), ("peak RSS", 150.0, "MB"), ("p99 lateness", 100.0, "ms"))

_CONFIG = """\
log_level: warning
http: {{host: {host}, port: {port}}}
identity: {{org_id: bench, site_id: lab, iot_device_id: hub-1}}
integrations:
  simulator:
    scenario: {scenario}
    seed: 1
    devices: {{count: {devices}, points_per_device: {points}}}
"""


@dataclass(frozen=True)
class Window:
    """One lateness summary fetched from the hub's health."""

    at_s: float  # seconds into the measured window
    cycles: int
    p50: float
    p99: float
    max: float


class Hub:
    """The hub subprocess and its health endpoint."""

    def __init__(self, workdir: Path, devices: int, points: int, scenario: str) -> None:
        self.port = _free_port()
        config = workdir / "hub.yaml"
        config.write_text(
            _CONFIG.format(host=HOST, port=self.port, scenario=scenario, devices=devices, points=points)
        )
        self.log = workdir / "hub.log"
        args = [sys.executable, "-m", "hub", "run", "--config", str(config), "--port", str(self.port)]
        args += ["--data-dir", str(workdir / "data"), "--log-level", "warning"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO
            )
        self.ps = psutil.Process(self.process.pid)

    def health(self) -> dict | None:
        """The /api/health body (also when it answers 503), None while it does not answer."""
        url = f"http://{HOST}:{self.port}/api/health"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except urllib.error.HTTPError as err:
            return json.loads(err.read())
        except OSError:
            return None

    def poller(self) -> dict | None:
        """The poller component's health (found by its lateness detail, whatever the lead names it)."""
        body = self.health()
        if body is None:
            return None
        return next((c for c in body.get("components", {}).values() if "lateness_ms" in c), {})

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return times.user + times.system + times.children_user + times.children_system

    def rss_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) in MB."""
        status = dict(
            line.split(":", 1)
            for line in Path(f"/proc/{self.ps.pid}/status").read_text().splitlines()
            if ":" in line
        )
        return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _machine_busy() -> float:
    """CPU seconds spent by every process on the machine (all cores)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wait_ready(hub: Hub, devices: int) -> dict:
    """Block until every device has been polled once; raise with the hub's log when it does not happen."""
    deadline = time.monotonic() + _START_TIMEOUT_S
    poller: dict | None = None
    unwired_since: float | None = None
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise RuntimeError(f"the hub exited with {hub.process.returncode}:\n{hub.log_tail()}")
        poller = hub.poller()
        if poller and poller.get("devices", 0) >= devices and poller.get("cycles", 0) >= poller["devices"]:
            return poller
        if poller == {}:  # health answers without a poller component
            unwired_since = unwired_since or time.monotonic()
            if time.monotonic() - unwired_since > _UNWIRED_S:
                raise RuntimeError(
                    "the hub's /api/health has no poller component (no detail with lateness_ms): "
                    f"is Hub.poller wired and registered in health?\n{hub.log_tail()}"
                )
        time.sleep(0.5)
    raise RuntimeError(
        f"not ready after {_START_TIMEOUT_S:g} s; last poller health: {poller}\n{hub.log_tail()}"
    )


def measure(hub: Hub, duration: float) -> dict:
    """CPU, memory, lateness windows and counter deltas over `duration` seconds."""
    first = hub.poller() or {}
    window_s = float(first.get("lateness_ms", {}).get("window_s", 60.0))
    cpu0, machine0, began = hub.cpu_seconds(), _machine_busy(), time.monotonic()
    windows: list[Window] = []
    next_fetch = min(window_s, duration)
    while True:
        elapsed = time.monotonic() - began
        if elapsed >= next_fetch:
            late = (hub.poller() or {}).get("lateness_ms")
            if late is None:
                raise RuntimeError(f"the poller's health has no lateness any more:\n{hub.log_tail()}")
            windows.append(Window(elapsed, late["cycles"], late["p50"], late["p99"], late["max"]))
            _progress(f"{elapsed:.0f} s: lateness p50 {late['p50']:.2f} / p99 {late['p99']:.2f} ms")
            if next_fetch >= duration:
                break
            next_fetch = min(next_fetch + window_s, duration)
        if hub.process.poll() is not None:
            raise RuntimeError(f"the hub exited with {hub.process.returncode}:\n{hub.log_tail()}")
        time.sleep(min(1.0, max(0.0, next_fetch - elapsed)))
    wall = time.monotonic() - began
    cpu = 100 * (hub.cpu_seconds() - cpu0) / wall
    other = max(0.0, 100 * (_machine_busy() - machine0) / wall - cpu)
    last = hub.poller() or {}
    deltas = {key: last.get(key, 0) - first.get(key, 0) for key in ("cycles", "points_read", "read_errors")}
    rss, peak = hub.rss_mb()
    return {
        "wall": wall,
        "cpu": cpu,
        "other": other,
        "rss": rss,
        "peak": peak,
        "windows": windows,
        "deltas": deltas,
        "poller": last,
    }


def report(result: dict, devices: int, points: int) -> str:
    """The figures and the verdict for each target."""
    wall, deltas, windows = result["wall"], result["deltas"], result["windows"]
    poller = result["poller"]
    lines = [
        f"devices polled: {poller.get('devices')} ({poller.get('devices_online')} online), "
        f"configured {devices} x {points} points",
        f"measured {wall:.0f} s: {deltas['cycles'] / wall:,.1f} cycles/s, "
        f"{deltas['points_read'] / wall:,.0f} points read/s "
        f"(expected {devices * points / INTERVAL_S:,.0f} at {INTERVAL_S:g} s), "
        f"read errors {deltas['read_errors']}, missed cycles {poller.get('missed_cycles')}",
        f"hub CPU {result['cpu']:.1f} % of one core (other processes: {result['other']:.0f} %), "
        f"RSS {result['rss']:.1f} MB, peak {result['peak']:.1f} MB",
        "lateness windows (ms):  "
        + "; ".join(
            f"at {w.at_s:.0f} s: {w.cycles} cycles p50 {w.p50:.2f} p99 {w.p99:.2f} max {w.max:.2f}"
            for w in windows
        ),
    ]
    p99 = max(w.p99 for w in windows)
    worst = max(w.max for w in windows)
    lines.append(
        f"lateness: p50 {windows[-1].p50:.2f} ms (last window), p99 {p99:.2f} ms, max {worst:.2f} ms"
    )
    values = {"CPU": result["cpu"], "peak RSS": result["peak"], "p99 lateness": p99}
    for label, limit, unit in _TARGETS:
        value = values[label]
        if value is None:
            lines.append(f"target {label} < {limit:g} {unit}: not measured")
        else:
            lines.append(
                f"target {label} < {limit:g} {unit}: {value:.1f} -> {'meets' if value < limit else 'below'}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=120.0, help="measured seconds (default 120)")
    parser.add_argument("--quick", action="store_true", help="measure 30 s")
    parser.add_argument(
        "--warmup", type=float, default=10.0, help="seconds after every device was polled once"
    )
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--points", type=int, default=100, help="points per device")
    parser.add_argument("--scenario", default="demo", help="the simulator scenario the scale-out is added to")
    args = parser.parse_args(argv)
    duration = 30.0 if args.quick else args.duration
    with tempfile.TemporaryDirectory(prefix="bms-bench-poll-") as tmp:
        hub = Hub(Path(tmp), args.devices, args.points, args.scenario)
        try:
            _progress(f"hub pid {hub.process.pid} on port {hub.port}: waiting for every device's first cycle")
            started = time.monotonic()
            wait_ready(hub, args.devices)
            _progress(f"ready after {time.monotonic() - started:.1f} s; warm-up {args.warmup:g} s")
            time.sleep(args.warmup)
            _progress(f"measuring {duration:g} s")
            result = measure(hub, duration)
        except RuntimeError as err:
            print(f"bench failed: {err}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 130
        finally:
            hub.stop()
        print(report(result, args.devices, args.points))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
