"""YAML loading that remembers where every key and value came from.

Config errors must point at a file and line, including inside `!include`d files and
`secrets.yaml`, so mappings and sequences load as `MarkedDict` / `MarkedList`: plain
containers that also carry the mark of each key, value and item. Problems found while
loading (a missing secret, an include cycle, a syntax error in an included file) do not
stop the load: the offending value becomes an `Unresolved` placeholder and
`iter_problems()` lists them all, so the caller can report them next to schema errors.

The pure-Python `SafeLoader` is used rather than `CSafeLoader`: config files are small
and its syntax error messages are clearer (they name the offending character).
"""

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SECRETS_FILE = "secrets.yaml"
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Mark:
    """A place in a YAML file: the path as the user would write it, and a 1-based line."""

    file: Path
    line: int | None  # None when the file itself cannot be read

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else str(self.file)


@dataclass(frozen=True)
class Problem:
    """Something wrong found while loading, before any schema is applied."""

    mark: Mark
    message: str


@dataclass(frozen=True)
class Unresolved:
    """Stands in for a value that could not be loaded; its problem is already reported."""

    problem: Problem


@dataclass(frozen=True)
class InputRef:
    """`!input name` in a flow blueprint: replaced by the instance's value for that input."""

    name: str
    mark: Mark


class MarkedDict(dict):
    """A mapping that knows the mark of each key and value, and which values are secrets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mark: Mark | None = None
        self.key_marks: dict[Any, Mark] = {}
        self.value_marks: dict[Any, Mark] = {}
        self.secret_keys: set[Any] = set()
        self.duplicates: list[tuple[Any, Mark, Mark]] = []  # (key, repeated at, first at)


class MarkedList(list):
    """A sequence that knows the mark of each item, and which items are secrets."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.mark: Mark | None = None
        self.item_marks: list[Mark] = []
        self.secret_items: set[int] = set()


@dataclass
class _Context:
    """State shared by one file and everything it includes."""

    root_dir: Path
    stack: list[Path] = field(default_factory=list)  # resolved paths being loaded (cycle check)
    secrets: dict[Path, MarkedDict | Unresolved] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)  # display paths, in load order


class _Loader(yaml.SafeLoader):
    """SafeLoader building Marked containers and resolving !include and !secret."""

    def __init__(self, text: str, file: Path, ctx: _Context, in_secrets: bool) -> None:
        super().__init__(text)
        self.file = file
        self.ctx = ctx
        self.in_secrets = in_secrets
        self.include_marks: dict[int, Mark] = {}  # id(node) -> mark of the included document

    def mark_of(self, node: yaml.Node) -> Mark:
        return self.include_marks.get(id(node)) or Mark(self.file, node.start_mark.line + 1)

    def construct_marked_map(self, node: yaml.MappingNode) -> Iterator[MarkedDict]:
        data = MarkedDict()
        data.mark = Mark(self.file, node.start_mark.line + 1)
        yield data
        first_seen: dict[tuple[str, str], Mark] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
                ident, here = (key_node.tag, key_node.value), self.mark_of(key_node)
                if ident in first_seen:
                    data.duplicates.append((key_node.value, here, first_seen[ident]))
                first_seen.setdefault(ident, here)
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    "a mapping key must be a plain value, not a list or mapping",
                    key_node.start_mark,
                ) from None
            data[key] = self.construct_object(value_node, deep=True)
            data.key_marks[key] = self.mark_of(key_node)
            data.value_marks[key] = self.mark_of(value_node)
            if value_node.tag == "!secret":
                data.secret_keys.add(key)
            else:
                data.secret_keys.discard(key)

    def construct_marked_seq(self, node: yaml.SequenceNode) -> Iterator[MarkedList]:
        data = MarkedList()
        data.mark = Mark(self.file, node.start_mark.line + 1)
        yield data
        for index, item_node in enumerate(node.value):
            data.append(self.construct_object(item_node, deep=True))
            data.item_marks.append(self.mark_of(item_node))
            if item_node.tag == "!secret":
                data.secret_items.add(index)

    def construct_include(self, node: yaml.Node) -> Any:
        here = self.mark_of(node)
        if not isinstance(node, yaml.ScalarNode) or not node.value:
            return Unresolved(Problem(here, "!include needs a file path, e.g. !include mqtt.yaml"))
        target = Path(os.path.normpath(self.file.parent / os.path.expanduser(node.value)))
        if target.resolve() in self.ctx.stack:
            chain = [*self.ctx.stack[self.ctx.stack.index(target.resolve()) :], target.resolve()]
            names = " -> ".join(_display(p, self.ctx.root_dir) for p in chain)
            return Unresolved(Problem(here, f"include cycle: {names}"))
        if not target.is_file():
            return Unresolved(Problem(here, f"included file {target} does not exist"))
        data, document_mark = _load_file(target, self.ctx, self.in_secrets)
        self.include_marks[id(node)] = document_mark
        return data

    def construct_secret(self, node: yaml.Node) -> Any:
        here = self.mark_of(node)
        if self.in_secrets:
            return Unresolved(Problem(here, f"!secret cannot be used inside {SECRETS_FILE}"))
        if not isinstance(node, yaml.ScalarNode) or not node.value:
            return Unresolved(Problem(here, "!secret needs a secret name, e.g. !secret mqtt_password"))
        name = node.value
        candidates = dict.fromkeys([self.file.parent / SECRETS_FILE, self.ctx.root_dir / SECRETS_FILE])
        existing = [path for path in candidates if path.is_file()]
        if not existing:
            where = " or ".join(str(path) for path in candidates)
            return Unresolved(Problem(here, f"!secret {name}: no secrets file, looked for {where}"))
        for path in existing:
            secrets = self._secrets(path)
            if isinstance(secrets, Unresolved):
                return secrets
            if name in secrets:
                return secrets[name]
        where = " or ".join(str(path) for path in existing)
        return Unresolved(Problem(here, f"!secret {name}: no secret named '{name}' in {where}"))

    def construct_input(self, node: yaml.Node) -> Any:
        here = self.mark_of(node)
        if not isinstance(node, yaml.ScalarNode) or not node.value:
            return Unresolved(Problem(here, "!input needs an input name, e.g. !input zone_temp"))
        return InputRef(node.value, here)

    def _secrets(self, path: Path) -> MarkedDict | Unresolved:
        if path not in self.ctx.secrets:
            data, document_mark = _load_file(path, self.ctx, in_secrets=True)
            if data is None:
                data = MarkedDict()
            if not isinstance(data, MarkedDict | Unresolved):
                data = Unresolved(Problem(document_mark, f"{SECRETS_FILE} must be a mapping of name: value"))
            self.ctx.secrets[path] = data
        return self.ctx.secrets[path]


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_marked_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_marked_seq)
_Loader.add_constructor("!include", _Loader.construct_include)
_Loader.add_constructor("!secret", _Loader.construct_secret)
_Loader.add_constructor("!input", _Loader.construct_input)


def load_yaml(path: Path) -> tuple[Any, list[Path]]:
    """Load a YAML file with its includes and secrets; return the data and every file read.

    Never raises for a problem in the files: those become `Unresolved` values (the root
    itself when the file is missing or not valid YAML), listed by `iter_problems()`.
    """
    path = Path(path)
    ctx = _Context(root_dir=path.parent)
    data, _ = _load_file(path, ctx, in_secrets=False)
    return data, ctx.files


def _load_file(path: Path, ctx: _Context, in_secrets: bool) -> tuple[Any, Mark]:
    ctx.files.append(path)
    document_mark = Mark(path, 1)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return Unresolved(Problem(Mark(path, None), f"cannot read file: {reason}")), document_mark
    return _parse(text, path, ctx, in_secrets, document_mark)


def load_yaml_text(text: str, path: Path) -> Any:
    """Like `load_yaml` for text that is not (yet) on disk, e.g. a flow being deployed; marks name `path`."""
    ctx = _Context(root_dir=path.parent)
    return _parse(text, path, ctx, False, Mark(path, 1))[0]


def _parse(text: str, path: Path, ctx: _Context, in_secrets: bool, document_mark: Mark) -> tuple[Any, Mark]:
    ctx.stack.append(path.resolve())
    loader: _Loader | None = None
    try:
        loader = _Loader(text, path, ctx, in_secrets)  # refuses a character YAML does not allow
        node = loader.get_single_node()
        if node is None:
            return None, document_mark
        document_mark = Mark(path, node.start_mark.line + 1)
        return loader.construct_document(node), document_mark
    except yaml.MarkedYAMLError as exc:
        return Unresolved(_syntax_problem(path, exc, hide_values=in_secrets)), document_mark
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        problem = Problem(Mark(path, line), f"invalid YAML: unacceptable character #x{exc.character:04x}")
        return Unresolved(problem), document_mark
    except yaml.YAMLError as exc:
        return Unresolved(Problem(Mark(path, 1), f"invalid YAML: {exc}")), document_mark
    finally:
        if loader is not None:
            loader.dispose()
        ctx.stack.pop()


def _syntax_problem(path: Path, exc: yaml.MarkedYAMLError, hide_values: bool) -> Problem:
    """Turn a PyYAML error into one line, without the file's text when it holds secrets."""
    problem_line = exc.problem_mark.line + 1 if exc.problem_mark else 1
    context_line = exc.context_mark.line + 1 if exc.context_mark else None
    # A scanner error ("while scanning a simple key") starts where the bad token starts;
    # a parser error ("while parsing a block mapping") is best shown where parsing failed.
    scanning = bool(exc.context and exc.context.startswith("while scanning") and context_line)
    line = context_line if scanning and context_line else problem_line
    message = f"invalid YAML: {exc.problem or exc.context}"
    if exc.context and exc.problem:
        started = f" that starts at line {context_line}" if context_line not in (None, line) else ""
        message += f" ({exc.context}{started})"
    if "'\\t'" in (exc.problem or ""):
        message += "; use spaces, not tabs, for indentation"
    elif any(text in (exc.problem or "") for text in ("expected <block end>", "did not find expected key")):
        message += "; check the indentation"
    if hide_values:  # e.g. "found undefined alias 'hunter2'"; keep short tokens like ':' and '\t'
        message = re.sub(r"'[^'<][^']{2,}'", "'...'", message)
    return Problem(Mark(path, line), message)


@dataclass(frozen=True)
class Location:
    """Where a path into loaded data points: see `locate()`."""

    key: str  # the path written as a key, e.g. "mqtt.users[0].password"
    key_mark: Mark | None  # the key's line, or the nearest existing parent's
    value_mark: Mark | None  # the value's line (inside an included file if included)
    value: Any
    exists: bool
    secret: bool  # the value (or a container above it) came from !secret


def locate(root: Any, path: Sequence[Any]) -> Location:
    """Find the marks for `path` (keys and list indexes) in data from `load_yaml()`."""
    node, secret, exists = root, False, True
    mark = root.mark if isinstance(root, MarkedDict | MarkedList) else None
    key_mark = value_mark = mark
    key = ""
    for part in path:
        if isinstance(node, MarkedList) and isinstance(part, int) and 0 <= part < len(node):
            key += f"[{part}]"
            key_mark = value_mark = node.item_marks[part]
            secret = secret or part in node.secret_items
            node = node[part]
        elif isinstance(node, MarkedDict) and part in node:
            key += f".{part}" if key else str(part)
            key_mark, value_mark = node.key_marks[part], node.value_marks[part]
            secret = secret or part in node.secret_keys
            node = node[part]
        else:
            # Missing from here on: keep the nearest existing mark, finish the key text.
            exists = False
            if isinstance(part, int) and isinstance(node, list):
                key += f"[{part}]"
            else:
                key += f".{part}" if key else str(part)
            node = None
    return Location(key, key_mark, value_mark if exists else key_mark, node, exists, secret)


def iter_problems(root: Any) -> Iterator[tuple[tuple[Any, ...], Problem]]:
    """Yield (path, problem) for every `Unresolved` value and duplicate key under `root`."""
    visited: set[int] = set()  # YAML aliases share containers: walk each once, not exponentially

    def walk(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Problem]]:
        if isinstance(node, Unresolved):
            yield path, node.problem
        if not isinstance(node, MarkedDict | MarkedList) or id(node) in visited:
            return
        visited.add(id(node))
        if isinstance(node, MarkedList):
            for index, value in enumerate(node):
                yield from walk(value, (*path, index))
            return
        for key, here, first in node.duplicates:
            yield (*path, key), Problem(here, f"duplicate key (first defined at line {first.line})")
        for key, value in node.items():
            yield from walk(value, (*path, key))

    return walk(root, ())


def _display(path: Path, root_dir: Path) -> str:
    try:
        return str(path.relative_to(root_dir.resolve()))
    except ValueError:
        return str(path)
