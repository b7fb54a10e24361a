"""Soak: the whole simulated site for an hour with faults on a schedule; what survived, what was lost.

Run from the repository root (not in CI; needs Debian's mosquitto and chromium):

    .venv/bin/python bench/soak.py                    # 3600 s
    .venv/bin/python bench/soak.py --duration 600     # every fault once (a 10-minute shake-out)

The site is bench/site.py's (bench/site_run.py). The run is cut into slots, five per started
10 minutes (at least five), and each slot injects the next fault of bench/soak_faults.py and waits
for the hub to recover before the slot ends: a BACnet device switched off and on, Mosquitto (the
bridge's upstream) stopped and started, an MQTT client flood (100 clients publishing where they may
not, 50 logins with unknown users), a burst of malformed payloads (100 on the BMS connection's
topic, 100 on the hub's command topics), and kill -9 of the hub, restarted at once. A fault is
survived when the hub answers /api/health afterwards and recovered within its slot: the device
online again; the bridge connected with its spool drained; the broker back to its clients; every
malformed request answered with an error and every malformed BMS message rejected; every device
polled again after the restart.

The report: each fault with its recovery time, samples lost (bench/site_check.py: device values
not in the store, outside the spans nobody could read them: a device while off, and from one commit
interval before a kill -9 until every device was polled again), errors by kind (the hub's log
lines at WARNING and above, with numbers and quoted text folded), hub CPU and RSS.
"""

import argparse
import asyncio
import contextlib
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import site_hub  # noqa: E402
from site_check import GRACE_S, Lost, Span, lost_samples  # noqa: E402
from site_run import Site, keep_log  # noqa: E402
from soak_faults import FAULTS, Outcome  # noqa: E402

SLOT_FAULTS_PER_10_MIN = len(FAULTS)
SETTLE = 0.1  # of a slot, before its fault
HOLD = 0.3  # of a slot: how long a device or Mosquitto stays down
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (WARNING|ERROR|CRITICAL)\s+(\S+): (.*)$")
_FOLD = (
    (re.compile(r"'[^']*'|\"[^\"]*\""), "'…'"),
    (re.compile(r"\d+(\.\d+)?"), "N"),
)


def errors_by_kind(log: str) -> Counter[str]:
    """WARNING and worse log lines, by level, logger and message with numbers and quotes folded."""
    kinds: Counter[str] = Counter()
    for line in log.splitlines():
        found = _LOG_LINE.match(line)
        if found is None:
            continue
        level, logger, message = found.groups()
        for pattern, replacement in _FOLD:
            message = pattern.sub(replacement, message)
        kinds[f"{level} {logger}: {message[:90]}"] += 1
    return kinds


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def run_faults(site: Site, duration: float) -> list[Outcome]:
    """Every slot's fault, in turn, each waited on until recovered (or its slot ran out)."""
    assert site.api is not None
    slots = max(1, round(duration / 600)) * SLOT_FAULTS_PER_10_MIN
    slot = duration / slots
    began = time.monotonic()
    outcomes = []
    for n in range(slots):
        start = began + n * slot
        await asyncio.sleep(max(0.0, start + SETTLE * slot - time.monotonic()))
        fault = FAULTS[n % len(FAULTS)]
        _progress(f"slot {n + 1}/{slots}: {fault.__name__}")
        within = max(1.0, start + slot - time.monotonic() - HOLD * slot)
        outcome = await fault(site, HOLD * slot, within, n // len(FAULTS))
        if await site.api.health() is None:
            outcome.recovered_s = None
            outcome.detail += "; /api/health did not answer afterwards"
        _progress(f"  {outcome.name}: " + _recovery(outcome) + f" ({outcome.detail})")
        outcomes.append(outcome)
    await asyncio.sleep(max(0.0, began + duration - time.monotonic()))
    return outcomes


def _recovery(outcome: Outcome) -> str:
    return "NOT recovered" if outcome.recovered_s is None else f"recovered in {outcome.recovered_s:.1f} s"


def report(
    outcomes: list[Outcome], lost: Lost, errors: Counter[str], scale: site_hub.Scale, figures: dict
) -> str:
    survived = sum(1 for o in outcomes if o.recovered_s is not None)
    lines = [
        f"BMS Hub soak: {figures['duration_s']:.0f} s, {scale.bacnet_devices} BACnet devices x "
        f"{scale.analog_inputs + scale.analog_values + scale.binary_values} points, "
        f"{scale.modbus_devices} Modbus, "
        f"{scale.flows} flows, {scale.subscribers} subscribers, BMS, bridge; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"faults survived: {survived} of {len(outcomes)}",
        *(
            f"  {time.strftime('%H:%M:%S', time.gmtime(o.at))} {o.name:<22} {_recovery(o):<24} {o.detail}"
            for o in outcomes
        ),
        f"samples lost: {lost.missing} of {lost.expected} device values outside the excluded spans "
        f"({figures['excluded_s']:.0f} s of device-time excluded)",
        *(f"  e.g. missing {e}" for e in lost.examples),
        f"hub: RSS at the end {figures['rss_mb']:.0f} MB "
        f"(the last start: {figures['since_start_s']:.0f} s ago), "
        f"CPU {figures['cpu']:.1f} % of one core since that start",
        f"errors by kind ({sum(errors.values())} log lines at WARNING and above):",
        *(f"  {count:6d}  {kind}" for kind, count in errors.most_common(25)),
    ]  # fmt: skip
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    current = asyncio.current_task()
    assert current is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, current.cancel)  # still stop every part
    scale = site_hub.TINY if args.scale == "tiny" else site_hub.Scale()
    with tempfile.TemporaryDirectory(prefix="bms-soak-") as tmp:
        try:
            async with Site(Path(tmp), scale) as site:
                assert site.api is not None
                assert site.hub is not None
                _progress(f"hub pid {site.hub.pid} on port {site.hub.port}: every device polled")
                await asyncio.sleep(args.warmup)
                began = time.time()
                outcomes = await run_faults(site, args.duration)
                ended = time.time()
                await asyncio.sleep(GRACE_S)  # the polls of the last values
                await site.committed_after(time.time())
                spans = [span for o in outcomes for span in o.excluded]
                lost = await lost_samples(
                    site.api, site.instances, scale.analog_inputs, scale.period, began, ended, spans
                )
                started = site.hub.started_at
                figures = {
                    "duration_s": ended - began,
                    "excluded_s": sum(_span_weight(s, len(site.instances)) for s in spans),
                    "rss_mb": site.hub.rss_mb(),
                    "since_start_s": time.monotonic() - started,
                    "cpu": 100 * site.hub.cpu_seconds() / (time.monotonic() - started),
                }
                errors = errors_by_kind(site.hub.log.read_text(errors="replace"))
        except RuntimeError as err:
            print(f"soak failed: {err}", file=sys.stderr)
            return 1
        finally:
            keep_log(Path(tmp), args.log)
    print(report(outcomes, lost, errors, scale, figures), flush=True)
    return 0


def _span_weight(span: Span, devices: int) -> float:
    """Device-seconds a span excludes."""
    return (span.end - span.start) * (1 if span.instance is not None else devices)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3600.0, help="seconds of faults (default 3600)")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds after every device was polled")
    parser.add_argument("--scale", choices=("full", "tiny"), default="full")
    parser.add_argument("--log", type=Path, help="keep a copy of the hub's log here")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        sys.exit(main())
