"""`bms-hub run | check-config | integrations | simulate | DOMAIN ...`: the command line.

Logs are readable lines on stderr. `simulate DOMAIN` and `DOMAIN ...` run commands that
integrations provide (see hub.integration_commands).
"""

import argparse
import asyncio
import dataclasses
import gc
import logging
import signal
import socket
import sys
from pathlib import Path

from aiohttp import web

from hub import __version__
from hub.auth.cli import add_user_parser, run_user_command
from hub.config import ConfigError, HubConfig, LogLevel, default_config, load_config
from hub.core import Hub
from hub.demo import DEMO_USER, PASSWORD_FILE, demo_config
from hub.flows.cli import add_commands as add_flows_commands
from hub.flows.cli import check_files as check_flow_files
from hub.flows.cli import print_issues as print_flow_issues
from hub.flows.cli import run as run_flows_command
from hub.http.app import create_app
from hub.integration_commands import run_domain_command, run_simulate
from hub.integrations_cli import list_integrations
from hub.preflight import validate_integration_configs

_LOGGER = logging.getLogger("hub")
EXIT_CONFIG = 2
EXIT_RUNTIME = 1
# SIGTERM must end the process within 5 s even with clients connected.
_SHUTDOWN_TIMEOUT_S = 3.0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="bms-hub", description="BMS Hub building-automation supervisor")
    parser.add_argument("--version", action="version", version=f"bms-hub {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the hub (the embedded default config when no --config)")
    run.add_argument("--config", type=Path, help="YAML configuration file")
    run.add_argument("--data-dir", type=Path, help="where the hub keeps its data (overrides data_dir)")
    run.add_argument("--port", type=int, help="HTTP port, 0 for any free port (overrides http.port)")
    run.add_argument("--log-level", choices=[level.value for level in LogLevel], help="overrides log_level")
    check = commands.add_parser("check-config", help="validate a configuration file and report every problem")
    check.add_argument("config", type=Path)
    found = commands.add_parser(
        "integrations", help="list installed integrations; with --config, check the configured ones"
    )
    found.add_argument("--config", type=Path, help="YAML configuration file whose integrations to check")
    simulate = commands.add_parser(
        "simulate", help="run an integration's simulated device, e.g. `bms-hub simulate modbus --help`"
    )
    simulate.add_argument("domain_and_args", nargs=argparse.REMAINDER, metavar="DOMAIN [ARGS...]")
    add_user_parser(commands)
    add_flows_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `bms-hub` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if (code := run_domain_command(argv)) is not None:
        return code
    args = build_parser().parse_args(argv)
    if args.command == "simulate":
        return run_simulate(args.domain_and_args)
    if args.command == "check-config":
        return _check_config(args.config)
    if args.command == "integrations":
        return list_integrations(args.config)
    if args.command == "user":
        return run_user_command(args)
    if args.command == "flows":
        return run_flows_command(args)
    return _run(args)


def _check_config(path: Path) -> int:
    try:
        config = load_config(path)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return EXIT_CONFIG
    issues = validate_integration_configs(config.integrations, path)  # imports each configured integration
    if issues:
        print(ConfigError(issues), file=sys.stderr)
        return EXIT_CONFIG
    if print_flow_issues(check_flow_files(config)):  # the flow folders too (points need a running hub)
        return EXIT_CONFIG
    print(f"{path}: configuration is valid")
    return 0


def _run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config) if args.config else default_config()
    except ConfigError as err:
        print(err, file=sys.stderr)
        return EXIT_CONFIG
    config = _apply_overrides(config, args)
    _configure_logging(config.log_level)
    if not args.config:
        config = demo_config(config)
        _LOGGER.info(
            "no config file: running the demo site (simulated AHU, VAV boxes and energy meter); "
            "log in as %r with the password in %s",
            DEMO_USER,
            config.data_dir / PASSWORD_FILE,
        )
    try:
        asyncio.run(serve(config))
    except OSError as err:
        _LOGGER.error("cannot start: %s", err)
        return EXIT_RUNTIME
    except RuntimeError as err:
        _LOGGER.error("cannot start: %s", err)
        return EXIT_RUNTIME
    return 0


def _apply_overrides(config: HubConfig, args: argparse.Namespace) -> HubConfig:
    changes: dict[str, object] = {}
    if args.data_dir is not None:
        changes["data_dir"] = args.data_dir
    if args.log_level is not None:
        changes["log_level"] = LogLevel(args.log_level)
    if args.port is not None:
        changes["http"] = dataclasses.replace(config.http, port=args.port)
    return dataclasses.replace(config, **changes)


def _configure_logging(level: LogLevel) -> None:
    logging.basicConfig(
        level=level.value.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # amqtt and transitions narrate every packet and state change at INFO.
    for noisy in ("amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


GC_THRESHOLDS = (700, 10, 100)  # CPython's young passes; a full pass every 100th middle one, not 10th


def tune_collector() -> None:
    """Keep the garbage collector's full passes off the event loop's back once the hub has started.

    What starting made (modules, config, points, devices) lives as long as the hub: frozen, it is out
    of every pass (over ~100 MB of objects a full pass held the loop 100-300 ms). A full pass over what
    the hub holds after that (retained messages, latest samples, traces: ~100,000 objects) still takes
    30-70 ms; at 10,000 points CPython's default thresholds ran one every 5 s, most of the loop's pauses
    over 20 ms. With GC_THRESHOLDS about a minute apart: few enough for a loop-lag p99 under 20 ms, often
    enough that cyclic garbage does not pile up (at every 1,000th, minutes apart, the heap grew twice as
    fast in a site run's first ten minutes measured).
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _bind_http(host: str, port: int) -> socket.socket:
    """Bind the one HTTP port, with a message that names it when that fails."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as err:
        raise OSError(err.errno, f"cannot listen on {host}:{port}: {err.strerror}") from err
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(config: HubConfig) -> None:
    """Run the hub until SIGTERM or SIGINT, then stop it cleanly."""
    sock = _bind_http(config.http.host, config.http.port)  # first: a busy port must change nothing
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):  # before starting: a stop while starting is clean too
        loop.add_signal_handler(signum, stop.set)
    hub = Hub(config)
    runner = web.AppRunner(create_app(hub), handle_signals=False, shutdown_timeout=_SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        port = sock.getsockname()[1]
        _LOGGER.info(
            "BMS Hub %s listening on http://%s:%s (MQTT over WebSocket at /mqtt)",
            __version__,
            config.http.host,
            port,
        )
        tune_collector()
        await stop.wait()
        _LOGGER.info("stopping")
    finally:
        await runner.cleanup()
