"""Device profiles: reusable register maps ("generic energy meter") shipped as YAML or written in the config.

A profile file has the same shape as an entry under `profiles:` in the hub config. A shipped or
user profile file with a mistake is refused with `file:line: key: message`, like the hub config.
"""

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import voluptuous as vol

from hub.config import ConfigError, ConfigIssue, each, schema_issues
from hub.yaml_loader import MarkedDict, Unresolved, iter_problems, load_yaml, locate

from .model import Order, RegisterPoint
from .overlaps import point_conflicts
from .schema import ORDERS, POINT_SCHEMA

BUILT_IN = Path(__file__).resolve().parent / "profiles"

PROFILE_SCHEMA = vol.Schema(
    {vol.Optional("description"): str, **ORDERS, vol.Required("points"): each(POINT_SCHEMA)}
)


@dataclass(frozen=True)
class Profile:
    """A validated register map: its default orders and its points' settings as written."""

    name: str
    points: tuple[Mapping[str, Any], ...]
    word_order: Order | None = None
    byte_order: Order | None = None
    description: str = ""

    @classmethod
    def from_validated(cls, profile_name: str, valid: Mapping[str, Any]) -> "Profile":
        return cls(
            profile_name,
            tuple(valid["points"]),
            valid.get("word_order"),
            valid.get("byte_order"),
            valid.get("description", ""),
        )


def build_point(raw: Mapping[str, Any], word_order: Order | None, byte_order: Order | None) -> RegisterPoint:
    """A RegisterPoint from validated keys; orders the point does not set come from its device or profile."""
    return RegisterPoint(
        name=raw["name"],
        table=raw["table"],
        address=raw["address"],
        type=raw["type"],
        length=raw.get("length", 1),
        bit=raw.get("bit"),
        word_order=raw.get("word_order", word_order or Order.BIG),
        byte_order=raw.get("byte_order", byte_order or Order.BIG),
        scale=raw.get("scale", 1.0),
        offset=raw.get("offset", 0.0),
        units=raw.get("units", ""),
        writable=raw.get("writable", False),
        minimum=raw.get("min"),
        maximum=raw.get("max"),
        simulate=raw.get("simulate"),
    )


def profile_problems(points: Sequence[Mapping[str, Any]], prefix: Sequence[Any]) -> list[vol.Invalid]:
    """Overlapping points and duplicate names within one profile, at the path of the later point."""
    built = [build_point(raw, None, None) for raw in points]
    return [vol.Invalid(message, [*prefix, index, key]) for index, key, message in point_conflicts(built)]


def load_profile(path: Path) -> Profile:
    """Read and check a profile file; raise ConfigError with every problem at its file:line."""
    raw, _ = load_yaml(path)
    issues = [
        ConfigIssue(problem.mark.file, problem.mark.line, locate(raw, where).key, problem.message)
        for where, problem in dict.fromkeys(iter_problems(raw))
    ]
    if isinstance(raw, Unresolved):
        raise ConfigError(issues)
    try:
        valid = PROFILE_SCHEMA(MarkedDict() if raw is None else raw)
    except vol.MultipleInvalid as err:
        raise ConfigError(issues + schema_issues(err, raw, path)) from err
    problems = profile_problems(valid["points"], ["points"])
    if problems or issues:
        raise ConfigError(issues + schema_issues(vol.MultipleInvalid(problems), raw, path))
    return Profile.from_validated(path.stem, valid)


@functools.cache
def built_in_profiles() -> Mapping[str, Profile]:
    """The profiles shipped with the integration, by name (the file's stem)."""
    return {path.stem: load_profile(path) for path in sorted(BUILT_IN.glob("*.yaml"))}


def open_profile(reference: str, base: Path | None = None) -> Profile:
    """A built-in profile by name, or a profile file (relative to `base`, default the working folder)."""
    if reference in built_in_profiles():
        return built_in_profiles()[reference]
    path = (base or Path.cwd()) / Path(reference).expanduser()
    if not path.is_file():
        known = ", ".join(built_in_profiles())
        raise ConfigError([ConfigIssue(path, None, "", f"no such profile file (built-in profiles: {known})")])
    return load_profile(path)
