"""Deployments as data: the flow files on disk, checking a set of files, versions and their diffs."""

import difflib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hub.flows.loader import FLOW_SUFFIXES, Deployment, Loaded, load_deployment
from hub.flows.model import FlowIssue, FlowSpec, Severity
from hub.flows.node import NodeRegistry
from hub.flows.validate import validate_blueprint, validate_flow
from hub.points import PointRegistry
from hub.store_tables import ConfigVersion

VERSION_NAME = "flows"  # the config_versions name of flow deployments


@dataclass(frozen=True)
class Checked:
    """A deployment loaded and validated: flows that may run, and every issue (errors and warnings)."""

    files: Mapping[str, str]
    loaded: Loaded
    issues: tuple[FlowIssue, ...]

    @property
    def runnable(self) -> dict[str, FlowSpec]:
        return self.loaded.flows

    @property
    def errors(self) -> list[FlowIssue]:
        return [issue for issue in self.issues if issue.severity == Severity.ERROR]


def check(files: Deployment, base: Path, registry: NodeRegistry, points: PointRegistry | None) -> Checked:
    """Load and validate; a flow with an error is moved from `runnable` to `set_aside`."""
    loaded = load_deployment(files, base)
    issues = list(loaded.issues)
    for blueprint in loaded.blueprints.values():
        issues.extend(validate_blueprint(blueprint, registry))
    for flow_id, spec in list(loaded.flows.items()):
        found = validate_flow(spec, registry, points)
        issues.extend(found)
        if any(issue.severity == Severity.ERROR for issue in found):
            del loaded.flows[flow_id]
            loaded.set_aside[flow_id] = spec.key
    return Checked(dict(files), loaded, tuple(issues))


class FlowFiles:
    """The flow files under the configured folders, keyed by their path relative to `base`."""

    def __init__(self, base: Path, directories: Sequence[Path]) -> None:
        self.base = base.resolve()
        self.directories = [Path(os.path.normpath(self.base / directory)) for directory in directories]

    def read(self) -> dict[str, str]:
        """Every flow file's text (unreadable files are skipped: the next reload sees them)."""
        files = {}
        for path in self._paths():
            try:
                files[self.key(path)] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
        return files

    def stamp(self) -> tuple[tuple[str, int, int], ...]:
        """What changes when a file is added, removed or written: names, sizes and mtimes."""
        stamps = []
        for path in self._paths():
            try:
                info = path.stat()
            except OSError:
                continue
            stamps.append((str(path), info.st_mtime_ns, info.st_size))
        return tuple(stamps)

    def write(self, files: Mapping[str, str]) -> None:
        """Make the folders hold exactly `files` (only files under the configured folders are touched)."""
        current = self.read()
        for key in current.keys() - files.keys():
            self.path(key).unlink(missing_ok=True)
        for key, text in files.items():
            if current.get(key) != text:
                path = self.path(key)
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_name(f".{path.name}.tmp")
                partial.write_text(text, encoding="utf-8")
                os.replace(partial, path)

    def path(self, key: str) -> Path:
        """The file of `key`; ValueError when it is not a flow file inside a configured folder."""
        path = Path(os.path.normpath(self.base / key))
        inside = any(path.is_relative_to(d) for d in self.directories)
        if path.suffix not in FLOW_SUFFIXES or not inside or "\0" in key:  # no file name holds a NUL
            folders = ", ".join(self.key(d) for d in self.directories)
            raise ValueError(f"{key}: expected a .yaml file inside one of the flow folders ({folders})")
        return path

    def user_key(self, name: str) -> str:
        """A bare file name as a key in the last folder (where deploys go); a key stays as it is."""
        return name if "/" in name else self.key(self.directories[-1] / name)

    def key(self, path: Path) -> str:
        try:
            return path.relative_to(self.base).as_posix()
        except ValueError:
            return path.as_posix()

    def _paths(self) -> list[Path]:
        found = []
        for directory in self.directories:
            if directory.is_dir():
                found.extend(
                    p for p in sorted(directory.rglob("*")) if p.suffix in FLOW_SUFFIXES and p.is_file()
                )
        return found


@dataclass(frozen=True)
class Version:
    """A stored deployment: the files, who deployed them, when, and why."""

    version: int
    created_at: float
    author: str
    note: str
    files: Mapping[str, str]

    @classmethod
    def parse(cls, stored: ConfigVersion) -> "Version":
        content = json.loads(stored.content)
        return cls(
            stored.version, stored.created_at, stored.author, content.get("note", ""), content["files"]
        )

    def summary(self) -> dict[str, object]:
        return {
            "version": self.version,
            "created_at": self.created_at,
            "author": self.author,
            "note": self.note,
            "files": sorted(self.files),
        }


def version_content(files: Mapping[str, str], note: str) -> str:
    return json.dumps({"note": note, "files": dict(sorted(files.items()))}, ensure_ascii=False)


def diff_files(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    """A unified diff of two deployments, file by file."""
    lines: list[str] = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key, ""), new.get(key, "")
        if before != after:
            lines.extend(
                difflib.unified_diff(
                    before.splitlines(keepends=True),
                    after.splitlines(keepends=True),
                    f"a/{key}" if key in old else "/dev/null",
                    f"b/{key}" if key in new else "/dev/null",
                )
            )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def flow_changes(old: Mapping[str, FlowSpec], new: Mapping[str, FlowSpec]) -> dict[str, list[str]]:
    """Per flow, what running `new` instead of `old` changes (nodes, parameters, edges), in words."""
    changes: dict[str, list[str]] = {}
    for flow_id in sorted(old.keys() | new.keys()):
        if flow_id not in new:
            changes[flow_id] = ["removed"]
        elif flow_id not in old:
            changes[flow_id] = ["added"]
        elif old[flow_id].fingerprint != new[flow_id].fingerprint:
            changes[flow_id] = _describe(old[flow_id].canonical(), new[flow_id].canonical())
    return changes


def _describe(before: dict, after: dict) -> list[str]:
    said = []
    for node_id in sorted(before["nodes"].keys() | after["nodes"].keys()):
        old, new = before["nodes"].get(node_id), after["nodes"].get(node_id)
        if old is None:
            said.append(f"node {node_id} added ({new['type']})")
        elif new is None:
            said.append(f"node {node_id} removed ({old['type']})")
        else:
            for key in sorted(old.keys() | new.keys()):
                if old.get(key) != new.get(key):
                    said.append(f"node {node_id}: {key} {old.get(key)!r} -> {new.get(key)!r}")
    said.extend(f"edge removed: {edge}" for edge in before["edges"] if edge not in after["edges"])
    said.extend(f"edge added: {edge}" for edge in after["edges"] if edge not in before["edges"])
    for key in sorted(before["parameters"].keys() | after["parameters"].keys()):
        if before["parameters"].get(key) != after["parameters"].get(key):
            said.append(
                f"parameter {key}: {before['parameters'].get(key)!r} -> {after['parameters'].get(key)!r}"
            )
    return said
