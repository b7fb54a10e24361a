"""Unit conversion for mapped readings: a BMS in degF feeding a hub point in degC, kWh into MWh, and so on.

Each unit is a linear function of its family's base unit (value_in_base = value * scale + offset);
units of different families cannot be converted.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class _Unit:
    family: str
    scale: float
    offset: float = 0.0


_UNITS: dict[str, _Unit] = {}


def _define(family: str, scale: float, offset: float, *names: str) -> None:
    for name in names:
        _UNITS[name.lower()] = _Unit(family, scale, offset)


_define("temperature", 1.0, 0.0, "degC", "°C", "C", "celsius")
_define("temperature", 5 / 9, -32 * 5 / 9, "degF", "°F", "F", "fahrenheit")
_define("temperature", 1.0, -273.15, "K", "kelvin")
_define("pressure", 1.0, 0.0, "Pa", "pascal")
_define("pressure", 1000.0, 0.0, "kPa")
_define("pressure", 100_000.0, 0.0, "bar")
_define("pressure", 100.0, 0.0, "mbar", "hPa")
_define("pressure", 6894.757, 0.0, "psi")
_define("pressure", 249.0889, 0.0, "inH2O", "in wc", "inwc")
_define("power", 1.0, 0.0, "W")
_define("power", 1000.0, 0.0, "kW")
_define("power", 1_000_000.0, 0.0, "MW")
_define("power", 3516.853, 0.0, "ton", "tons", "TR")
_define("power", 0.2930711, 0.0, "BTU/h", "btuh")
_define("energy", 1.0, 0.0, "Wh")
_define("energy", 1000.0, 0.0, "kWh")
_define("energy", 1_000_000.0, 0.0, "MWh")
_define("energy", 1000 / 3.6, 0.0, "MJ")
_define("energy", 0.2930711, 0.0, "BTU")
_define("flow", 1.0, 0.0, "L/s", "l/s")
_define("flow", 1000 / 3600, 0.0, "m3/h", "m³/h")
_define("flow", 1000.0, 0.0, "m3/s", "m³/s")
_define("flow", 0.4719474, 0.0, "cfm")
_define("flow", 0.0630902, 0.0, "gpm")
_define("ratio", 1.0, 0.0, "%", "percent")
_define("ratio", 100.0, 0.0, "fraction")
_define("concentration", 1.0, 0.0, "ppm")
_define("volume", 1.0, 0.0, "m3", "m³")
_define("volume", 0.001, 0.0, "L", "l")
_define("volume", 0.003785412, 0.0, "gal")


def same_unit(a: str, b: str) -> bool:
    """Whether two unit names mean the same unit (`°C` and `degC`), or are both empty."""
    if a.strip().lower() == b.strip().lower():
        return True
    ua, ub = _UNITS.get(a.strip().lower()), _UNITS.get(b.strip().lower())
    return ua is not None and ua == ub


def conversion_problem(source: str, target: str) -> str | None:
    """Why a value in `source` cannot be turned into `target`, or None when it can (or nothing is needed)."""
    if not source or not target or same_unit(source, target):
        return None
    us, ut = _UNITS.get(source.strip().lower()), _UNITS.get(target.strip().lower())
    if us is None or ut is None:
        unknown = source if us is None else target
        return f"unknown unit {unknown!r}: cannot convert {source} to {target}"
    if us.family != ut.family:
        return f"cannot convert {source} ({us.family}) to {target} ({ut.family})"
    return None


def convert(value: float, source: str, target: str) -> float:
    """`value` in `source` expressed in `target` (check `conversion_problem` first)."""
    if conversion_problem(source, target) is not None:
        raise ValueError(conversion_problem(source, target))
    if not source or not target or same_unit(source, target):
        return value
    us, ut = _UNITS[source.strip().lower()], _UNITS[target.strip().lower()]
    return (value * us.scale + us.offset - ut.offset) / ut.scale
