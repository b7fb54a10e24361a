"""`bms-hub flows validate | diff`: check the flow folders, and what deploying them would change."""

import argparse
import json
import sqlite3
import sys
from pathlib import Path

from hub.config import ConfigError, HubConfig, default_config, load_config
from hub.flows.deployment import VERSION_NAME, Checked, FlowFiles, check, flow_changes
from hub.flows.loader import load_deployment
from hub.flows.nodes import builtin_registry

EXIT_INVALID = 2


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `flows validate` and `flows diff` to the command line."""
    flows = commands.add_parser("flows", help="check flows, and what deploying the files would change")
    actions = flows.add_subparsers(dest="flows_command", required=True)
    for name, text in (
        ("validate", "report every problem of the flow files (points are not checked without a hub)"),
        ("diff", "what each flow would change compared with the deployed version (e.g. a blueprint edited)"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--config", type=Path, help="YAML configuration file (default: the embedded one)")


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config) if args.config else default_config()
    except ConfigError as err:
        print(err, file=sys.stderr)
        return EXIT_INVALID
    if args.flows_command == "validate":
        return print_issues(check_files(config))
    return _diff(config)


def check_files(config: HubConfig) -> Checked:
    """The flow folders of `config`, loaded and validated without points."""
    files = _files(config)
    return check(files.read(), files.base, builtin_registry(), None)


def print_issues(checked: Checked) -> int:
    """Print every issue; EXIT_INVALID when one is an error."""
    for issue in checked.issues:
        print(issue, file=sys.stderr)
    if checked.errors:
        return EXIT_INVALID
    print(f"{len(checked.runnable)} flows and {len(checked.loaded.blueprints)} blueprints are valid")
    return 0


def _diff(config: HubConfig) -> int:
    files = _files(config)
    on_disk = files.read()
    deployed = _deployed_files(config.data_dir / "hub.db")
    if deployed is None:
        print("no flows version deployed yet: every flow would be added")
        deployed = {}
    old = load_deployment(deployed, files.base).flows
    new = load_deployment(on_disk, files.base).flows
    changes = flow_changes(old, new)
    for flow_id, said in changes.items():
        spec = new.get(flow_id) or old[flow_id]
        origin = f" (blueprint {spec.blueprint})" if spec.blueprint else ""
        print(f"{flow_id}{origin}:")
        for line in said:
            print(f"  {line}")
    if not changes:
        print("no flow would change")
    return 0


def _deployed_files(database: Path) -> dict[str, str] | None:
    """The files of the newest flows version in the hub's database, read-only; None when there is none."""
    if not database.exists():
        return None
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        try:
            row = db.execute(
                "SELECT content FROM config_versions WHERE name = ? ORDER BY version DESC LIMIT 1",
                (VERSION_NAME,),
            ).fetchone()
        except sqlite3.OperationalError:  # a database from before versions existed
            return None
    return json.loads(row[0])["files"] if row else None


def _files(config: HubConfig) -> FlowFiles:
    base = config.source.parent if config.source else Path.cwd()
    return FlowFiles(base, config.flows.directories)
