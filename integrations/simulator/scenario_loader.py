"""Load a scenario YAML file into a Scenario; every problem is reported as `file:line: key: message`.

Two passes, like the hub's own config: the schema checks shapes and values, then the steps are
checked against the site they act on (a step naming an unknown point is reported at its line).
"""

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import voluptuous as vol
import yaml

from hub.config import ConfigError, ConfigIssue, each, integer, schema_issues, section, string
from hub.integration import DEFAULT_PRIORITY, WriteError
from hub.points import Point, Value
from hub.yaml_loader import Mark, MarkedDict, Unresolved, iter_problems, load_yaml, locate

from .durations import parse_duration
from .equipment import site_devices
from .priority import PRIORITY_LEVELS, checked_write
from .scenario import (
    AhuSpec,
    ChillerSpec,
    FailPoint,
    MeterSpec,
    RestoreDevice,
    RestorePoint,
    Scenario,
    SetInput,
    SiteInput,
    SiteSpec,
    SlowDown,
    Step,
    TakeOffline,
    VavSpec,
    WritePoint,
)

BUILT_IN = Path(__file__).resolve().parent / "scenarios"
_NAME = re.compile(r"[a-z0-9_-]+")
_DEVICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_ACTIONS = ("set", "write", "fail", "restore", "offline", "slow")
_MAX_DELAY_S = 600.0


def built_in_scenarios() -> list[str]:
    """Names of the scenarios shipped with the integration."""
    return sorted(path.stem for path in BUILT_IN.glob("*.yaml"))


def open_scenario(name: str, base: Path | None = None) -> Scenario:
    """Load a built-in scenario by name, or a file (relative to `base`, default the working folder)."""
    if _NAME.fullmatch(name) and (BUILT_IN / f"{name}.yaml").is_file():
        return load_scenario(BUILT_IN / f"{name}.yaml")
    path = (base or Path.cwd()) / Path(name).expanduser()
    if not path.is_file():
        known = ", ".join(built_in_scenarios())
        raise ConfigError(
            [ConfigIssue(path, None, "", f"no such scenario file (built-in scenarios: {known})")]
        )
    return load_scenario(path)


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario file; raise ConfigError listing every problem in it."""
    raw, files = load_yaml(path)
    issues = [
        ConfigIssue(problem.mark.file, problem.mark.line, locate(raw, where).key, problem.message)
        for where, problem in dict.fromkeys(iter_problems(raw))
    ]
    scenario = None
    if not isinstance(raw, Unresolved):
        try:
            valid = SCENARIO_SCHEMA(MarkedDict() if raw is None else raw)
        except vol.MultipleInvalid as err:
            issues.extend(_issues(err.errors, raw, path))
        else:
            scenario, errors = _build(valid, path)
            issues.extend(_issues(errors, raw, path))
    if issues or scenario is None:
        order = {file: index for index, file in reversed(list(enumerate(files)))}
        raise ConfigError(sorted(issues, key=lambda i: (order.get(i.file, len(order)), i.line or 0, i.key)))
    return scenario


# --- the schema --------------------------------------------------------------------------------


def _number(minimum: float, maximum: float) -> Callable[[Any], float]:
    def validate(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not minimum <= value <= maximum:
            raise vol.Invalid(f"expected a number between {minimum:g} and {maximum:g}")
        return float(value)

    return validate


def _device_id(value: Any) -> str:
    if not isinstance(value, str) or not _DEVICE_ID.fullmatch(value):
        raise vol.Invalid("expected a device id: up to 64 letters, digits, '_' or '-'")
    return value


def _duration(value: Any) -> float:
    try:
        return parse_duration(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None


def _delay(value: Any) -> float:
    seconds = _duration(value)
    if not 0 < seconds <= _MAX_DELAY_S:
        raise vol.Invalid("expected a delay above 0 and at most 10m, e.g. 2s")
    return seconds


@dataclass(frozen=True)
class _Assignment:
    """`target = value` as written in a set or write step."""

    target: str
    value: Value


def _assignment(value: Any) -> _Assignment:
    expected = "expected 'name = value', e.g. 'outdoor_air_temp = 35'"
    target, equals, text = value.partition("=") if isinstance(value, str) else ("", "", "")
    if not equals or not target.strip() or not text.strip():
        raise vol.Invalid(expected)
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError:
        raise vol.Invalid(expected) from None
    if isinstance(parsed, dict | list):
        raise vol.Invalid(expected)
    return _Assignment(target.strip(), parsed)


def _at_least_one(value: tuple[Any, ...]) -> tuple[Any, ...]:
    if not value:
        raise vol.Invalid("expected at least one VAV box")
    return value


def _one_action(step: dict[str, Any]) -> dict[str, Any]:
    actions = [key for key in _ACTIONS if key in step]
    if len(actions) != 1:
        raise vol.Invalid(f"a step needs exactly one of {', '.join(_ACTIONS)}")
    if "delay" in step and actions != ["slow"]:
        raise vol.Invalid("only a slow step takes a delay", path=["delay"])
    if "slow" in step and "delay" not in step:
        raise vol.Invalid("a slow step needs a delay, e.g. delay: 2s", path=["slow"])
    if "priority" in step and actions != ["write"]:
        raise vol.Invalid("only a write step takes a priority", path=["priority"])
    return step


_NAMED = {vol.Required("id"): _device_id, vol.Optional("name"): string}
AHU_SCHEMA = vol.Schema(
    {
        **_NAMED,
        vol.Optional("supply_air_setpoint"): _number(10, 30),
        vol.Optional("min_outdoor_air"): _number(0, 100),
        vol.Optional("fan_kw"): _number(0, 1000),
        vol.Optional("heating_kw"): _number(0, 10000),
        vol.Optional("cooling_kw"): _number(0, 10000),
    }
)
VAV_SCHEMA = vol.Schema(
    {
        **_NAMED,
        vol.Optional("zone_temp"): _number(-10, 50),
        vol.Optional("zone_setpoint"): _number(15, 30),
        vol.Optional("zone_load"): _number(-10, 50),
        vol.Optional("max_airflow"): _number(10, 10000),
    }
)
METER_SCHEMA = vol.Schema(
    {**_NAMED, vol.Optional("base_load"): _number(0, 10000), vol.Optional("energy"): _number(0, 1e9)}
)
CHILLER_SCHEMA = vol.Schema({**_NAMED, vol.Optional("start_delay"): _duration})
STEP_KEYS = vol.Schema(
    {
        vol.Required("at"): _duration,
        vol.Optional("set"): _assignment,
        vol.Optional("write"): _assignment,
        vol.Optional("priority"): integer(1, PRIORITY_LEVELS),
        vol.Optional("fail"): string,
        vol.Optional("restore"): string,
        vol.Optional("offline"): string,
        vol.Optional("slow"): string,
        vol.Optional("delay"): _delay,
    }
)
SCENARIO_SCHEMA = vol.Schema(
    {
        vol.Optional("name"): string,
        vol.Optional("outdoor_air_temp"): _number(-40, 60),
        vol.Required("ahu"): section(AHU_SCHEMA, AhuSpec),
        vol.Required("vavs"): vol.All(each(section(VAV_SCHEMA, VavSpec)), _at_least_one),
        vol.Required("meter"): section(METER_SCHEMA, MeterSpec),
        vol.Optional("chillers"): each(section(CHILLER_SCHEMA, ChillerSpec)),
        vol.Optional("steps"): each(vol.All(STEP_KEYS, _one_action)),
    }
)
_SHAPES: Mapping[tuple[str, ...], vol.Schema] = {
    (): SCENARIO_SCHEMA,
    ("ahu",): AHU_SCHEMA,
    ("vavs", "*"): VAV_SCHEMA,
    ("meter",): METER_SCHEMA,
    ("chillers", "*"): CHILLER_SCHEMA,
    ("steps", "*"): STEP_KEYS,
}
_INPUT_RANGES = {SiteInput.OUTDOOR_AIR_TEMP: _number(-40, 60), SiteInput.ZONE_LOAD: _number(-10, 50)}


# --- the second pass: the site and the steps that act on it -------------------------------------


@dataclass(frozen=True)
class _Site:
    """What steps may name."""

    spec: SiteSpec
    points: Mapping[str, Point]
    devices: tuple[str, ...]

    def point(self, name: str, key: str) -> Point:
        if name not in self.points:
            raise _unknown("a point", name, list(self.points), key)
        return self.points[name]

    def device(self, name: str, key: str) -> str:
        if name not in self.devices:
            raise _unknown("a device", name, self.devices, key)
        return name


def _unknown(what: str, name: str, known: Sequence[str], key: str) -> vol.Invalid:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return vol.Invalid(f"expected {what} of the site{hint}", path=[key])


def _build(valid: dict[str, Any], path: Path) -> tuple[Scenario, list[vol.Invalid]]:
    site = SiteSpec(
        **{
            key: valid[key]
            for key in ("ahu", "vavs", "meter", "outdoor_air_temp", "chillers")
            if key in valid
        }
    )
    errors = _duplicate_ids(site)
    found = site_devices(site)
    known = _Site(site, {p.id: p for d in found for p in d.points}, tuple(d.device.id for d in found))
    steps: list[Step] = []
    for index, raw in enumerate(valid.get("steps", ())):
        try:
            steps.append(_step(raw, known))
        except vol.Invalid as err:
            err.prepend(["steps", index])
            errors.append(err)
    steps.sort(key=lambda step: step.at)
    return Scenario(valid.get("name") or path.stem, path, site, tuple(steps)), errors


def _duplicate_ids(site: SiteSpec) -> list[vol.Invalid]:
    places: list[tuple[str, list[Any]]] = [(site.ahu.id, ["ahu", "id"])]
    places += [(vav.id, ["vavs", index, "id"]) for index, vav in enumerate(site.vavs)]
    places.append((site.meter.id, ["meter", "id"]))
    places += [(chiller.id, ["chillers", index, "id"]) for index, chiller in enumerate(site.chillers)]
    first: dict[str, str] = {}
    errors = []
    for device_id, where in places:
        owner = where[0] if len(where) == 2 else f"{where[0]}[{where[1]}]"
        if device_id in first:
            errors.append(vol.Invalid(f"duplicate device id, already used by {first[device_id]}", path=where))
        first.setdefault(device_id, owner)
    return errors


def _step(raw: dict[str, Any], site: _Site) -> Step:
    """The typed step of a validated mapping; vol.Invalid (path within the step) if it names nothing real."""
    at = raw["at"]
    if "set" in raw:
        return _set_step(at, raw["set"], site)
    if "write" in raw:
        return _write_step(at, raw["write"], raw.get("priority", DEFAULT_PRIORITY), site)
    if "fail" in raw:
        return FailPoint(at, site.point(raw["fail"], "fail").id)
    if "offline" in raw:
        return TakeOffline(at, site.device(raw["offline"], "offline"))
    if "slow" in raw:
        return SlowDown(at, site.device(raw["slow"], "slow"), raw["delay"])
    target = raw["restore"]
    if target in site.devices:
        return RestoreDevice(at, target)
    if target in site.points:
        return RestorePoint(at, target)
    raise _unknown("a point or device", target, [*site.devices, *site.points], "restore")


def _set_step(at: float, assignment: _Assignment, site: _Site) -> SetInput:
    vavs = [vav.id for vav in site.spec.vavs]
    inputs = {SiteInput.OUTDOOR_AIR_TEMP.value: (SiteInput.OUTDOOR_AIR_TEMP, None)}
    inputs.update({f"{vav}.{SiteInput.ZONE_LOAD}": (SiteInput.ZONE_LOAD, vav) for vav in vavs})
    if assignment.target not in inputs:
        raise _unknown("an input", assignment.target, list(inputs), "set")
    which, device_id = inputs[assignment.target]
    try:
        value = _INPUT_RANGES[which](assignment.value)
    except vol.Invalid as err:
        raise vol.Invalid(f"{err.msg} for {assignment.target}", path=["set"]) from None
    return SetInput(at, which, value, device_id)


def _write_step(at: float, assignment: _Assignment, priority: int, site: _Site) -> WritePoint:
    point = site.point(assignment.target, "write")
    if not point.writable:
        writable = [p for p, known in site.points.items() if known.writable]
        raise _unknown("a writable point", point.id, writable, "write")
    try:
        value = checked_write(point, assignment.value, priority)
    except WriteError as err:
        raise vol.Invalid(f"expected a value the point accepts ({err})", path=["write"]) from None
    return WritePoint(at, point.id, value, priority)


# --- issues --------------------------------------------------------------------------------------


def _issues(errors: Sequence[vol.Invalid], raw: Any, path: Path) -> list[ConfigIssue]:
    """ConfigIssues at the lines to fix; an unknown key gets a hint from this file's own schema."""
    issues = []
    for error in errors:
        if error.error_message != "extra keys not allowed":
            issues.extend(schema_issues(error, raw, path))
            continue
        where = locate(raw, error.path)
        mark = where.key_mark or Mark(path, None)
        issues.append(ConfigIssue(mark.file, mark.line, where.key, _unknown_key(error.path)))
    return issues


def _unknown_key(path: Sequence[Any]) -> str:
    shape = tuple("*" if isinstance(part, int) else part for part in path[:-1])
    schema = _SHAPES.get(shape)
    if schema is None:
        return "unknown key"
    allowed = [str(key) for key in schema.schema]
    close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
    return (
        f"unknown key (did you mean '{close[0]}'?)"
        if close
        else f"unknown key (expected one of: {', '.join(allowed)})"
    )
