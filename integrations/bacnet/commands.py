"""`bms-hub bacnet doctor | discover`: diagnose the site's BACnet/IP network, or discover from the shell.

Both take the integration's settings from `--config FILE` (its `integrations: bacnet:` section) or
from `--address` and friends. `discover` prints one JSON object per line (progress and devices):
for scripts, and the way the tests run a discovery inside a network namespace.
"""

import argparse
import asyncio
import ipaddress
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

from hub.config import ConfigError, load_config
from hub.integration import DiscoveredDevice, DiscoveryRequest
from hub.preflight import validate_integration_configs

from .app import HubApplication, hub_device
from .client import Client, Peer
from .config import CONFIG_SCHEMA, BacnetConfig, ForeignDeviceConfig
from .discovery import Found, discover
from .doctor import run as run_doctor
from .network import BindError, Endpoint, open_application
from .scan import ScannedDevice

EXIT_USAGE = 2


def _settings(args: argparse.Namespace) -> BacnetConfig:
    """The settings from --config, then overridden by the flags given."""
    if args.config is not None:
        hub_config = load_config(args.config)
        raw = dict(hub_config.integrations.get("bacnet") or {})
        issues = validate_integration_configs({"bacnet": raw}, args.config)
        if issues:
            raise ConfigError(issues)
        config = BacnetConfig.from_validated(CONFIG_SCHEMA(raw))
    elif args.address is None:
        raise SystemExit("bms-hub bacnet: give --config FILE or --address IP/PREFIX")
    else:
        config = BacnetConfig(args.address)
    changes: dict[str, object] = {}
    if args.address is not None:
        changes["address"] = args.address
    if args.port is not None:
        changes["port"] = args.port
    if args.bbmd is not None:
        changes["foreign_device"] = ForeignDeviceConfig(args.bbmd)
    return replace(config, **changes)


async def _discover(config: BacnetConfig, request: DiscoveryRequest) -> int:
    foreign = config.foreign_device
    app = await open_application(
        Endpoint(config.address, config.port),
        hub_device(config.device_instance),
        bbmd=foreign.bbmd if foreign else None,
        ttl=foreign.ttl if foreign else 300,
        app_class=HubApplication,
    )
    client = Client(app, config.timeout)

    def peer_for(found: Found) -> Peer:
        return Peer(found.instance, found.address, found.max_apdu, found.segmented)

    def found(scan: ScannedDevice) -> DiscoveredDevice:
        print(json.dumps({"device": asdict(scan)}), flush=True)
        return DiscoveredDevice(scan.device(config.poll_interval), scan.points())

    try:
        async for event in discover(client, request, request.timeout, peer_for, found):
            if not isinstance(event, DiscoveredDevice):
                print(json.dumps({"progress": asdict(event)}), flush=True)
    finally:
        app.close()
    return 0


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="bms-hub bacnet", description=__doc__.splitlines()[0])
    sub = cli.add_subparsers(dest="command", required=True)
    for name, text in (("doctor", "check the BACnet/IP setup and say what to fix"), ("discover", "discover")):
        command = sub.add_parser(name, help=text)
        command.add_argument("--config", type=Path, help="the hub's config file (its bacnet section)")
        command.add_argument("--address", type=ipaddress.IPv4Interface, help="IP/PREFIX to bind")
        command.add_argument("--port", type=int)
        command.add_argument("--bbmd", help="register as a foreign device with this BBMD (host[:port])")
        command.add_argument("--window", type=float, default=3.0, help="seconds to wait for answers")
        command.add_argument(
            "--device", action="append", default=[], metavar="ADDRESS", help="also ask this address (unicast)"
        )
        if name == "discover":
            command.add_argument("--low", type=int, help="lowest device instance")
            command.add_argument("--high", type=int, help="highest device instance")
    return cli


def main(argv: list[str]) -> int:
    """Run a bacnet subcommand."""
    args = parser().parse_args(argv)
    try:
        config = _settings(args)
        if args.command == "doctor":
            return run_doctor(config, args.device, args.window)
        request = DiscoveryRequest(args.low, args.high, tuple(args.device), args.window)
        return asyncio.run(_discover(config, request))
    except ConfigError as err:
        print(err, file=sys.stderr)
        return EXIT_USAGE
    except BindError as err:
        print(f"bms-hub bacnet: {err}", file=sys.stderr)
        return 1
