"""Before setup: find the installed integrations, import the configured ones and validate their config.

`bms-hub check-config` and `bms-hub integrations` stop here; the manager in `hub.loader` goes on to
set up what passes. Every problem becomes a `ConfigIssue` pointing at the config line to fix.
"""

import difflib
import importlib.metadata
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import voluptuous as vol

from hub.config import ConfigIssue, schema_issues
from hub.integration import ENTRY_POINT_GROUP
from hub.yaml_loader import MarkedDict, load_yaml, locate

_LOGGER = logging.getLogger(__name__)
_NO_FILE = Path("<config>")  # where issues point when the config did not come from a file
_MODULE_NAMES = ("DOMAIN", "CONFIG_SCHEMA", "async_setup")


@dataclass(frozen=True)
class FoundIntegration:
    """An integration installed through an entry point (not necessarily enabled)."""

    domain: str
    module: str  # the entry point's target, e.g. "bms_hub_example"
    distribution: str | None
    version: str | None


class IntegrationState(StrEnum):
    LOADED = "loaded"
    NOT_FOUND = "not_found"
    IMPORT_FAILED = "import_failed"
    INVALID = "invalid_module"
    CONFIG_INVALID = "config_invalid"
    SETUP_FAILED = "setup_failed"
    SETUP_TIMEOUT = "setup_timeout"
    STOPPED = "stopped"


@dataclass(frozen=True)
class IntegrationCheck:
    """What `bms-hub check-config` and `bms-hub integrations` learn without setting an integration up."""

    domain: str
    state: IntegrationState | None  # None: it would be set up
    issues: tuple[ConfigIssue, ...]


def find_integrations() -> dict[str, FoundIntegration]:
    """List the installed integrations by domain (the first on sys.path wins a duplicate domain)."""
    found: dict[str, FoundIntegration] = {}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = entry.dist
        item = FoundIntegration(
            entry.name, entry.value, dist.name if dist else None, dist.version if dist else None
        )
        known = found.get(entry.name)
        if known is None:
            found[entry.name] = item
        elif known != item:
            _LOGGER.warning(
                "integration %s is installed twice (%s from %s, %s from %s); using the first",
                entry.name, known.module, known.distribution, item.module, item.distribution,
            )  # fmt: skip
    return dict(sorted(found.items()))


def check_integration_configs(
    configs: Mapping[str, Any],
    source: Path | None = None,
    found: Mapping[str, FoundIntegration] | None = None,
) -> list[IntegrationCheck]:
    """Import each configured integration and validate its config, without setting it up."""
    found = find_integrations() if found is None else found
    locator = Locator(configs, source)
    checks = []
    for domain, raw in configs.items():
        try:
            prepare(domain, raw, found, locator)
        except Rejected as err:
            checks.append(IntegrationCheck(domain, err.state, err.issues))
        else:
            checks.append(IntegrationCheck(domain, None, ()))
    return checks


def validate_integration_configs(configs: Mapping[str, Any], source: Path | None = None) -> list[ConfigIssue]:
    """Every problem that would keep a configured integration from being set up, as file:line issues."""
    return [issue for check in check_integration_configs(configs, source) for issue in check.issues]


class Locator:
    """Says where an integration's settings were written, reading the file's marks only when needed."""

    def __init__(self, configs: Mapping[str, Any], source: Path | None) -> None:
        self._configs = configs
        self.file = source or _NO_FILE
        self._source = source
        self._root: Any = None

    def _marked_root(self) -> Any:
        if self._root is None:
            self._root = {"integrations": dict(self._configs)}  # no marks: issues name the key only
            if self._source is not None:
                raw, _ = load_yaml(self._source)
                if isinstance(locate(raw, ["integrations"]).value, MarkedDict):
                    self._root = raw
        return self._root

    def issue(self, domain: str, message: str) -> ConfigIssue:
        where = locate(self._marked_root(), ["integrations", domain])
        mark = where.key_mark
        return ConfigIssue(mark.file if mark else self.file, mark.line if mark else None, where.key, message)

    def schema_issues(self, domain: str, error: vol.Invalid, schema: Any) -> list[ConfigIssue]:
        issues = schema_issues(error, self._marked_root(), self.file, ["integrations", domain])
        return sorted(
            (_with_hint(issue, domain, schema) for issue in issues), key=lambda i: (i.line or 0, i.key)
        )


def _with_hint(issue: ConfigIssue, domain: str, schema: Any) -> ConfigIssue:
    """Add "did you mean" to an unknown top-level key of an integration's dict schema."""
    prefix = f"integrations.{domain}."
    keys = getattr(schema, "schema", None)
    if issue.message != "unknown key" or not isinstance(keys, dict) or not issue.key.startswith(prefix):
        return issue
    name, allowed = issue.key.removeprefix(prefix), [str(key) for key in keys]
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"expected one of: {', '.join(allowed)}"
    return ConfigIssue(issue.file, issue.line, issue.key, f"unknown key ({hint})")


class Rejected(Exception):
    """An integration that cannot be set up, with the state to record and the issues to show."""

    def __init__(self, state: IntegrationState, issues: Sequence[ConfigIssue]) -> None:
        self.state = state
        self.issues = tuple(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues))


@dataclass(frozen=True)
class Ready:
    """An imported integration module and its validated config, ready for async_setup."""

    module: Any
    config: Any


def prepare(domain: str, raw: Any, found: Mapping[str, FoundIntegration], locator: Locator) -> Ready:
    """Import the integration's module, check its shape and validate its config; raise Rejected."""
    entry = found.get(domain)
    if entry is None:
        installed = ", ".join(found) or "none"
        message = f"no integration named '{domain}' is installed; installed: {installed}"
        raise Rejected(IntegrationState.NOT_FOUND, [locator.issue(domain, message)])
    try:
        module = importlib.metadata.EntryPoint(domain, entry.module, ENTRY_POINT_GROUP).load()
    except Exception as err:  # whatever the module raises while importing
        message = f"cannot import {entry.module}: {type(err).__name__}: {err}"
        raise Rejected(IntegrationState.IMPORT_FAILED, [locator.issue(domain, message)]) from err
    problem = _module_problem(domain, module)
    if problem is not None:
        raise Rejected(IntegrationState.INVALID, [locator.issue(domain, f"{entry.module} {problem}")])
    schema = module.CONFIG_SCHEMA
    try:
        config = schema({} if raw is None else raw)  # `example:` alone means "with the defaults"
    except vol.Invalid as err:
        raise Rejected(IntegrationState.CONFIG_INVALID, locator.schema_issues(domain, err, schema)) from err
    except Exception as err:
        message = f"{entry.module}.CONFIG_SCHEMA raised {type(err).__name__}: {err}"
        raise Rejected(IntegrationState.INVALID, [locator.issue(domain, message)]) from err
    return Ready(module, config)


def _module_problem(domain: str, module: Any) -> str | None:
    missing = [name for name in _MODULE_NAMES if not hasattr(module, name)]
    if missing:
        return f"does not define {', '.join(missing)}"
    if domain != module.DOMAIN:
        return f"declares DOMAIN {module.DOMAIN!r} but is installed as {domain!r}"
    if not callable(module.CONFIG_SCHEMA) or not callable(module.async_setup):
        return "CONFIG_SCHEMA and async_setup must be callable"
    return None
