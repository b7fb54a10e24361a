"""MQTT broker benchmark: the hub (auth + ACL on) vs Mosquitto and stock amqtt, WS publisher → WS subscriber.

Run from the repository root:

    .venv/bin/python bench/broker.py            # about 6 minutes
    .venv/bin/python bench/broker.py --quick    # about 1.5 minutes, one short run per figure

Method
- Brokers (bench/targets.py), each a subprocess on 127.0.0.1: the real hub (`python -m hub
  run`, users with allow lists and a deny rule, log level warning); Mosquitto with a
  WebSocket and a TCP listener, a password file and an equivalent ACL file; stock amqtt
  0.12.1 with a `ws` listener and anonymous auth only (no ACL), as in the issue's reference.
- Load (bench/mqtt_load.py, bench/mqtt_client.py) runs in two separate processes per
  scenario, one for the publishers and one for the subscribers, so the broker's CPU is its
  own. The client is a lean asyncio protocol with pre-encoded packets; a QoS 0 flood sends
  `--batch` PUBLISH packets per WebSocket frame.
- Scenarios: 1→1; 10→10 (publisher i → topic bench/load/i → subscriber i, ten distinct
  pairs); 1→50 (fifty subscribers of one topic). Subscribers subscribe with QoS 1, so the
  publisher's QoS decides the delivery QoS.
- Throughput ("flood"): publishers send as fast as the broker accepts for `--duration` s
  (QoS 1: at most `--window` unacknowledged); the first `--warmup` s are not counted; msg/s is
  what publishers sent, deliveries/s what subscribers received, median of `--runs` runs.
  Afterwards the subscribers wait for every message sent: QoS 1 loss must be 0; QoS 0 loss is
  what was never delivered (the hub's own count, /api/health `qos0_dropped`, is shown too).
- Latency ("paced"): 1,000 deliveries/s (1→1 and 10→10: 1,000 msg/s in total; 1→50: 20 msg/s)
  for `--latency-duration` s, one message per frame, each payload carrying its send time
  (CLOCK_MONOTONIC, shared by every process); p50/p99/max of receive - send time.
- CPU: broker and load processes are sampled (psutil) over the measured window. This machine
  has 2 cores: broker + clients near 200 % means the machine, not the broker, is the limit;
  a load process near 100 % would be the bottleneck itself.
- Idle RSS: VmRSS of each broker (with any children) 2 s after start, before any load.
- Also (not with --quick): the 1→1 QoS 0 flood with paho-mqtt clients (one per process, so a
  common client library gives the same picture) and over plain TCP (Mosquitto's reference).
Nothing is asserted: the summary says "meets" or "below" for each target of the issue.
"""

import argparse
import contextlib
import multiprocessing as mp
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import targets
from mqtt_client import Endpoint
from mqtt_load import Delivered, Phase, PhaseKind, PubResult, Role, SubResult, WorkerSpec, worker_main
from paho_load import paho_main
from report import Measurement, Mode, Row, format_ratios, format_table, targets_for
from targets import Broker

_LEAD_S = 0.15  # between sending a phase and its start, so every worker is waiting for it
# After an open-loop flood, stop waiting for a broker's backlog: the connections close next.
_OPEN_LOOP_DRAIN_S = 2.0
_QUIET_CPU_PERCENT = 10.0
_QUIET_WAIT_S = 15.0
_REPLY_TIMEOUT_S = 60.0
_LATENCY_DELIVERIES_PER_S = 1000.0
_IDLE_S = 2.0
_THROUGHPUT = {
    Mode.QOS0: (PhaseKind.SUSTAINED, 0),
    Mode.QOS1: (PhaseKind.FLOOD, 1),
    Mode.QOS0_OPEN: (PhaseKind.FLOOD, 0),
}
_STARTERS: dict[str, Callable[[Path], Broker]] = {
    "hub": targets.start_hub,
    "mosquitto": targets.start_mosquitto,
    "amqtt": targets.start_amqtt,
}
_REFERENCE = {
    "amqtt": "issue reference, stock amqtt alone, no ACL: ~6,200 msg/s QoS 0 1→1 WS, "
    "~22,000 deliveries/s 1→50, p99 ~0.9 ms at 1,000 msg/s, 37 MB",
    "mosquitto": "issue reference: ~75,000 msg/s 1→1 over TCP",
}


@dataclass(frozen=True)
class Scenario:
    """Publishers, subscribers, and whether they share one topic (fan-out) or pair up."""

    name: str
    publishers: int
    subscribers: int
    shared_topic: bool

    @property
    def fanout(self) -> int:
        """Deliveries per published message."""
        return self.subscribers if self.shared_topic else 1

    def topics(self) -> tuple[list[str], list[str]]:
        """Topics of the publishers and filters of the subscribers."""
        if self.shared_topic:
            return ["bench/fan"] * self.publishers, ["bench/fan"] * self.subscribers
        pairs = [f"bench/load/{i}" for i in range(self.publishers)]
        return pairs, pairs


ONE_TO_ONE = Scenario("1→1", 1, 1, False)
SCENARIOS = (ONE_TO_ONE, Scenario("10→10", 10, 10, False), Scenario("1→50", 1, 50, True))


@dataclass(frozen=True)
class Settings:
    """Command-line choices."""

    duration_s: float
    warmup_s: float
    runs: int
    latency_s: float
    batch: int
    window: int
    e2e_window: int
    payload_size: int
    extras: bool
    brokers: tuple[str, ...]


# -- worker processes ---------------------------------------------------------------------


class Worker:
    """A load process and its pipe."""

    def __init__(self, target: Callable[..., None], spec: WorkerSpec, delivered: Delivered) -> None:
        context = mp.get_context("spawn")
        self._pipe, child = context.Pipe()
        self.process = context.Process(target=target, args=(spec, child, delivered), daemon=True)
        self.process.start()
        child.close()

    def send(self, message: object) -> None:
        self._pipe.send(message)

    def receive(self, timeout: float = _REPLY_TIMEOUT_S) -> Any:
        """The worker's next reply; raise if it reports an error, dies or stays silent."""
        if not self._pipe.poll(timeout):
            raise RuntimeError(f"load process silent for {timeout:g} s")
        try:
            kind, value = self._pipe.recv()
        except EOFError:
            raise RuntimeError(f"load process exited with {self.process.exitcode}") from None
        if kind == "error":
            raise RuntimeError(value)
        return value

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._pipe.send(None)
        self.process.join(3)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(3)
        self._pipe.close()


@contextlib.contextmanager
def load_processes(
    endpoint: Endpoint, scenario: Scenario, settings: Settings, tag: str, paho: bool = False
) -> Iterator[tuple[Worker, Worker]]:
    """Start the subscribers' and the publishers' processes, connected and ready."""
    pub_topics, sub_topics = scenario.topics()
    if scenario.shared_topic:
        watch = tuple(tuple(range(scenario.subscribers)) for _ in pub_topics)
    else:
        watch = tuple((i,) for i in range(scenario.publishers))
    common = {"endpoint": endpoint, "payload_size": settings.payload_size, "batch": settings.batch}
    subs = WorkerSpec(
        role=Role.SUB,
        clients=tuple(targets.sub_client(f"{tag}-sub-{i}", t) for i, t in enumerate(sub_topics)),
        **common,  # type: ignore[arg-type]
    )
    pubs = WorkerSpec(
        role=Role.PUB,
        clients=tuple(targets.pub_client(f"{tag}-pub-{i}", t) for i, t in enumerate(pub_topics)),
        window=settings.window,
        e2e_window=settings.e2e_window,
        watch=watch,
        **common,  # type: ignore[arg-type]
    )
    delivered = mp.get_context("spawn").Array("q", scenario.subscribers, lock=False)
    entry = paho_main if paho else worker_main
    started: list[Worker] = []
    try:
        started.append(Worker(entry, subs, delivered))
        started[0].receive()
        started.append(Worker(entry, pubs, delivered))
        started[1].receive()
        yield started[0], started[1]
    finally:
        for worker in reversed(started):
            worker.stop()


# -- measuring ----------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    try:
        process = psutil.Process(pid)
        times = [process.cpu_times(), *(child.cpu_times() for child in process.children(recursive=True))]
    except psutil.NoSuchProcess:
        return 0.0
    return sum(t.user + t.system for t in times)


def _machine_busy() -> float:
    """CPU seconds spent by every process on the machine (all cores)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def _sleep_until(at_ns: int) -> None:
    time.sleep(max(0.0, (at_ns - time.monotonic_ns()) / 1e9))


def run_phase(
    broker: Broker,
    workers: tuple[Worker, Worker],
    scenario: Scenario,
    kind: PhaseKind,
    qos: int,
    settings: Settings,
) -> Measurement:
    """Run one phase on both workers and collect what they and the broker did."""
    subs, pubs = workers
    before = broker.counters()
    if kind == PhaseKind.PACED:
        duration, warmup, rate = settings.latency_s, 0.0, _LATENCY_DELIVERIES_PER_S / scenario.fanout
    else:
        duration, warmup, rate = settings.duration_s, settings.warmup_s, 0.0
    drain = _OPEN_LOOP_DRAIN_S if (kind, qos) == (PhaseKind.FLOOD, 0) else 20.0
    phase = Phase(kind, qos, time.monotonic_ns() + int(_LEAD_S * 1e9), duration, warmup, rate, drain)
    subs.send(phase)
    pubs.send(phase)
    pids = (broker.pid, pubs.process.pid, subs.process.pid)
    opens, closes = phase.window_ns
    _sleep_until(opens)
    start, machine, started = [_cpu_seconds(pid) for pid in pids], _machine_busy(), time.monotonic()
    _sleep_until(closes)
    elapsed = time.monotonic() - started
    cpu = [100 * (_cpu_seconds(pid) - s) / elapsed for pid, s in zip(pids, start, strict=True)]
    others = max(0.0, 100 * (_machine_busy() - machine) / elapsed - sum(cpu))
    pub: PubResult = pubs.receive()
    expected = pub.sent * scenario.fanout
    subs.send(expected)
    sub: SubResult = subs.receive()
    after = broker.counters()
    deltas = {key: after[key] - before.get(key, 0) for key in after}
    return Measurement(pub, sub, expected, cpu[0], cpu[1], cpu[2], others, deltas)


def wait_quiet(broker: Broker) -> None:
    """Wait until the broker is idle, so a backlog from the previous scenario does not count in the next."""
    deadline = time.monotonic() + _QUIET_WAIT_S
    while time.monotonic() < deadline:
        start = _cpu_seconds(broker.pid)
        time.sleep(0.2)
        if 100 * (_cpu_seconds(broker.pid) - start) / 0.2 < _QUIET_CPU_PERCENT:
            return


def measure_scenario(broker: Broker, scenario: Scenario, settings: Settings) -> list[Row]:
    """QoS 0 and QoS 1 throughput and latency runs, then the open-loop flood, on one set of connections."""
    rows = [Row(scenario.name, mode, broker.name) for mode in (Mode.QOS0, Mode.QOS1)]
    if broker.bounded:
        rows.append(Row(scenario.name, Mode.QOS0_OPEN, broker.name))
    row = rows[0]
    wait_quiet(broker)
    try:
        with load_processes(broker.ws, scenario, settings, f"{broker.name}-{scenario.publishers}") as workers:
            for row in rows:
                kind, qos = _THROUGHPUT[row.mode]
                for _ in range(1 if row.mode == Mode.QOS0_OPEN else settings.runs):
                    row.runs.append(run_phase(broker, workers, scenario, kind, qos, settings))
                if row.mode != Mode.QOS0_OPEN:
                    row.paced = run_phase(broker, workers, scenario, PhaseKind.PACED, qos, settings)
    except RuntimeError as err:
        for failed in rows[rows.index(row) :]:
            failed.error = str(err)
    return rows


def measure_variant(
    broker: Broker, endpoint: Endpoint, label: str, settings: Settings, paho: bool, runs: int
) -> Row:
    """The 1→1 sustained QoS 0 case only, with another client or transport."""
    row = Row(ONE_TO_ONE.name, Mode.QOS0, f"{broker.name} {label}")
    wait_quiet(broker)
    try:
        with load_processes(endpoint, ONE_TO_ONE, settings, f"{broker.name}-{label}", paho) as workers:
            for _ in range(runs):
                row.runs.append(run_phase(broker, workers, ONE_TO_ONE, PhaseKind.SUSTAINED, 0, settings))
    except RuntimeError as err:
        row.error = str(err)
    return row


# -- the whole run ------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> Settings:
    """Settings from the command line; --quick shortens every phase and skips the extras."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="one short run per figure, no paho/TCP extras (~1.5 min)")
    add("--duration", type=float, help="seconds per throughput run (default 3, quick 1)")
    add("--runs", type=int, help="throughput runs per figure, median reported (default 3, quick 1)")
    add("--latency-duration", type=float, help="seconds per paced latency run (default 2, quick 1)")
    add("--batch", type=int, default=50, help="PUBLISH packets per WebSocket frame in a flood (default 50)")
    add("--window", type=int, default=100, help="QoS 1 PUBLISH unacknowledged per publisher (default 100)")
    add(
        "--e2e-window",
        type=int,
        default=500,
        help="sustained QoS 0: messages ahead of the slowest subscriber",
    )
    add("--payload", type=int, default=64, help="payload bytes (default 64)")
    add("--brokers", default="hub,mosquitto,amqtt", help="comma-separated subset (default all three)")
    args = parser.parse_args(argv)
    brokers = tuple(name.strip() for name in args.brokers.split(",") if name.strip())
    unknown = set(brokers) - set(_STARTERS)
    if unknown:
        parser.error(f"unknown broker(s): {', '.join(sorted(unknown))}")
    duration = args.duration or (1.0 if args.quick else 3.0)
    return Settings(
        duration_s=duration,
        warmup_s=min(0.5, duration / 4),
        runs=args.runs or (1 if args.quick else 3),
        latency_s=args.latency_duration or (1.0 if args.quick else 2.0),
        batch=args.batch,
        window=args.window,
        e2e_window=args.e2e_window,
        payload_size=args.payload,
        extras=not args.quick,
        brokers=brokers,
    )


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _idle_rss(brokers: dict[str, Broker]) -> dict[str, float]:
    time.sleep(_IDLE_S)
    return {name: broker.rss_mb() for name, broker in brokers.items()}


def measure_all(brokers: dict[str, Broker], settings: Settings) -> list[Row]:
    """Every scenario on every broker, then the extras; rows ordered by scenario, mode, broker."""
    rows: list[Row] = []
    for scenario in SCENARIOS:
        for broker in brokers.values():
            started = time.monotonic()
            new = measure_scenario(broker, scenario, settings)
            figures = ", ".join(
                f"{row.mode} {'ERROR' if row.error else f'{row.deliveries or 0:,.0f}/s'}" for row in new
            )
            _progress(f"  {scenario.name} {broker.name}: {figures} ({time.monotonic() - started:.0f} s)")
            for row in new:
                if row.error:
                    _progress(f"    {row.mode}: {row.error}")
            rows.extend(new)
    names = [s.name for s in SCENARIOS]
    modes = list(Mode)
    rows.sort(key=lambda r: (names.index(r.scenario), modes.index(r.mode)))
    if settings.extras:
        for broker in brokers.values():
            rows.append(measure_variant(broker, broker.ws, "paho", settings, paho=True, runs=1))
            _progress(f"  1→1 QoS 0 {broker.name} with paho clients: {rows[-1].deliveries or 0:,.0f}/s")
        for broker in brokers.values():
            if broker.tcp is not None:
                rows.append(
                    measure_variant(broker, broker.tcp, "TCP", settings, paho=False, runs=settings.runs)
                )
                _progress(f"  1→1 QoS 0 {broker.name} over TCP: {rows[-1].deliveries or 0:,.0f}/s")
    return rows


def _describe(settings: Settings) -> str:
    s = settings
    lines = [
        f"MQTT over WebSocket on 127.0.0.1, {psutil.cpu_count()} CPUs; payload {s.payload_size} B; broker, "
        "publishers and subscribers each in their own process.",
        f"Throughput: median of {s.runs} run(s) of {s.duration_s:g} s, the first {s.warmup_s:g} s not "
        f"counted; publishers send {s.batch} PUBLISH per WS frame.",
        f"  QoS 0      sustained: each publisher at most {s.e2e_window} messages ahead of its slowest "
        "subscriber, so no broker needs to queue or drop.",
        f"  QoS 1      at most {s.window} PUBLISH unacknowledged per publisher, "
        f"{min(s.batch, s.window)} per frame.",
        "  QoS 0 open open-loop flood, one run: as fast as the broker reads (msg/s includes what waits in "
        "socket buffers);",
        f"             subscribers wait {_OPEN_LOOP_DRAIN_S:g} s for stragglers. Not run on amqtt, which "
        "has no back-pressure and queues without bound.",
        f"Latency: paced run of {s.latency_s:g} s at {_LATENCY_DELIVERIES_PER_S:,.0f} deliveries/s (1→50: "
        f"{_LATENCY_DELIVERIES_PER_S / 50:g} msg/s), one PUBLISH per frame, receive time - send time.",
        "hub: users with allow lists and a deny rule; mosquitto 2.0: password file + ACL file, defaults "
        "otherwise; amqtt: stock 0.12.1, anonymous, no ACL.",
        "lost: sent x fan-out - received, over all phases of the row. hub drop: the hub's qos0_dropped. "
        "pk/frm: MQTT packets per WS frame received.",
        "CPU: % of one core over the measured window (2 cores in all); other: CPU used meanwhile by other "
        "processes on the machine (more than a few % disturbs the figures).",
    ]
    return "\n".join(lines)


def print_report(
    rows: list[Row], settings: Settings, idle: dict[str, float], after: dict[str, tuple[float, float]]
) -> None:
    """The table, ratios, memory and the summary against the issue's targets."""
    print()
    print(_describe(settings))
    print()
    print(format_table(rows))
    print()
    names = list(dict.fromkeys(r.broker for r in rows if " " not in r.broker))
    if "hub" in names and len(names) > 1:
        print("Deliveries/s ratios (medians):")
        print(format_ratios(rows, "hub", [n for n in names if n != "hub"]))
        print()
    memory = (f"{n} idle {idle[n]:.1f}, after load {after[n][0]:.1f}, peak {after[n][1]:.1f}" for n in idle)
    print("RSS (MB): " + "; ".join(memory))
    print()
    print("Summary against the issue's targets (they are the hub's; the other brokers for comparison):")
    for name in names:
        print(f"  {name}:")
        for check in targets_for(rows, name, idle.get(name)):
            print(f"    {check}")
        if name in _REFERENCE:
            print(f"    ({_REFERENCE[name]})")


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Start the brokers, measure, print, and always clean up."""
    settings = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    began = time.monotonic()
    brokers: dict[str, Broker] = {}
    with tempfile.TemporaryDirectory(prefix="bms-bench-") as tmp:
        try:
            for name in settings.brokers:
                workdir = Path(tmp) / name
                workdir.mkdir()
                brokers[name] = _STARTERS[name](workdir)
            idle = _idle_rss(brokers)
            _progress("idle RSS: " + ", ".join(f"{n} {v:.1f} MB" for n, v in idle.items()))
            rows = measure_all(brokers, settings)
            after = {name: (b.rss_mb(), b.peak_rss_mb()) for name, b in brokers.items()}
            print_report(rows, settings, idle, after)
        except KeyboardInterrupt:
            _progress("interrupted: stopping the brokers")
            return 130
        finally:
            for broker in brokers.values():
                broker.stop()
    _progress(f"total {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
