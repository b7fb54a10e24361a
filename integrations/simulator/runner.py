"""`python -m integrations.simulator`: run a scenario headless and print every sample as a JSON line.

No hub and no wall clock: the model steps as fast as it can, every point is read every `--step`
seconds of simulated time, and `slow` steps cost nothing. The same scenario and seed always print
the same lines, which makes this the reference for what a scenario does.
"""

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Iterator, Sequence

from hub.config import ConfigError
from hub.integration import DeviceError

from .equipment import site_devices
from .history import DEFAULT_SIZE, Emitted
from .scenario_loader import open_scenario
from .simulation import Simulation

EXIT_SCENARIO = 2


def run_headless(simulation: Simulation, duration: float, interval: float) -> Iterator[Emitted]:
    """Read every point at 0, `interval`, 2 x `interval` ... up to `duration` simulated seconds."""
    for index in range(math.floor(duration / interval) + 1):
        simulation.advance_to(index * interval)
        mark = simulation.history.total
        for found in simulation.devices:
            with contextlib.suppress(DeviceError):  # an offline device's points are recorded as bad
                simulation.read(found.points, float(simulation.time))
        yield from simulation.history.since(mark)


def build_parser() -> argparse.ArgumentParser:
    """The command line of `python -m integrations.simulator`."""
    parser = argparse.ArgumentParser(
        prog="python -m integrations.simulator",
        description="Run a simulator scenario without a hub and print every sample as a JSON line.",
    )
    parser.add_argument("scenario", help="a built-in scenario's name (demo) or a scenario YAML file")
    parser.add_argument("--minutes", type=float, default=60.0, help="simulated minutes to run (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sensor noise (default 0)")
    parser.add_argument(
        "--step",
        type=float,
        default=5.0,
        help="simulated seconds between readings of every point (default 5)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: JSON lines on stdout, scenario problems on stderr (exit 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.minutes < 0 or args.step <= 0:
        parser.error("--minutes must be 0 or more and --step above 0")
    try:
        scenario = open_scenario(args.scenario)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return EXIT_SCENARIO
    points = sum(len(found.points) for found in site_devices(scenario.site))
    simulation = Simulation(
        scenario, args.seed, history_size=max(DEFAULT_SIZE, points)
    )  # holds a whole round
    write = sys.stdout.write
    try:
        for emitted in run_headless(simulation, args.minutes * 60, args.step):
            write(json.dumps(emitted.as_json()) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # the reader (e.g. `head`) has had enough: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
