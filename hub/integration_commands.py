"""Commands that integrations add to `bms-hub`, found through the same entry points as the integrations.

An integration module may define `simulate_main(argv) -> int` (run by `bms-hub simulate DOMAIN ...`:
a simulated device of its protocol, for tests and for practising without hardware) and
`command_main(argv) -> int` (run by `bms-hub DOMAIN ...`, e.g. `bms-hub bacnet doctor`). The hub's
core stays protocol-agnostic: it only looks the functions up.
"""

import importlib.metadata
import sys
from collections.abc import Callable, Sequence

from hub.integration import ENTRY_POINT_GROUP
from hub.preflight import find_integrations

SIMULATE = "simulate_main"
COMMAND = "command_main"
EXIT_USAGE = 2

CommandMain = Callable[[list[str]], int]


def integration_command(domain: str, attribute: str) -> CommandMain | None:
    """The integration's command function, or None when it is not installed or has none."""
    found = find_integrations().get(domain)
    if found is None:
        return None
    module = importlib.metadata.EntryPoint(domain, found.module, ENTRY_POINT_GROUP).load()
    command = getattr(module, attribute, None)
    return command if callable(command) else None


def domains_with(attribute: str) -> list[str]:
    """The installed integrations that offer `attribute` (imports each one; a broken one is skipped)."""
    return [domain for domain in find_integrations() if _offers(domain, attribute)]


def _offers(domain: str, attribute: str) -> bool:
    try:
        return integration_command(domain, attribute) is not None
    except Exception:  # whatever a broken package raises on import: `bms-hub integrations` reports it
        return False


def run_simulate(argv: Sequence[str]) -> int:
    """`bms-hub simulate DOMAIN [ARGS...]`: hand ARGS to the integration's simulator."""
    available = domains_with(SIMULATE)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: bms-hub simulate DOMAIN [ARGS...]  (DOMAIN ARGS --help for its options)")
        print(f"integrations with a simulator: {', '.join(available) or 'none installed'}")
        return 0 if argv else EXIT_USAGE
    command = integration_command(argv[0], SIMULATE) if _offers(argv[0], SIMULATE) else None
    if command is None:
        print(
            f"bms-hub simulate: no simulator for {argv[0]!r}; available: {', '.join(available) or 'none'}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return command(list(argv[1:]))


def run_domain_command(argv: Sequence[str]) -> int | None:
    """`bms-hub DOMAIN [ARGS...]` when DOMAIN is an installed integration with commands; else None."""
    if not argv or argv[0].startswith("-") or not _offers(argv[0], COMMAND):
        return None  # a broken integration must not break `bms-hub --help` and friends
    command = integration_command(argv[0], COMMAND)
    return command(list(argv[1:])) if command is not None else None
