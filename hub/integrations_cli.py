"""`bms-hub integrations`: what is installed, and with a config, whether each configured one would load."""

import sys
from pathlib import Path

from hub.config import ConfigError, load_config
from hub.preflight import FoundIntegration, check_integration_configs, find_integrations

EXIT_CONFIG = 2
_NOT_CONFIGURED = "not configured"
_READY = "ok"


def list_integrations(config_path: Path | None = None) -> int:
    """Print the installed integrations; with a config, check the configured ones (exit 2 if one fails)."""
    found = find_integrations()
    if config_path is None:
        _print_table(
            ["DOMAIN", "DISTRIBUTION", "VERSION", "MODULE"], [_columns(d, found.get(d)) for d in found]
        )
        if not found:
            print("no integrations are installed (entry point group bms_hub.integrations)")
        return 0
    try:
        config = load_config(config_path)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return EXIT_CONFIG
    checks = {
        check.domain: check for check in check_integration_configs(config.integrations, config_path, found)
    }
    rows = []
    for domain in [*checks, *(d for d in found if d not in checks)]:
        check = checks.get(domain)
        state = _NOT_CONFIGURED if check is None else str(check.state or _READY)
        rows.append([*_columns(domain, found.get(domain)), state])
    _print_table(["DOMAIN", "DISTRIBUTION", "VERSION", "MODULE", "STATE"], rows)
    issues = [issue for check in checks.values() for issue in check.issues]
    if issues:
        print(ConfigError(issues), file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _columns(domain: str, found: FoundIntegration | None) -> list[str]:
    if found is None:
        return [domain, "-", "-", "-"]
    return [domain, found.distribution or "-", found.version or "-", found.module]


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
