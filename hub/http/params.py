"""Query-string parameters for list routes: each bad one is a 400 that names it."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from aiohttp import web

from hub.http.errors import api_error

E = TypeVar("E", bound=StrEnum)


def bad(name: str, message: str) -> web.HTTPError:
    return api_error(web.HTTPBadRequest, f"{name}: {message}")


def refuse_unknown(request: web.Request, known: frozenset[str]) -> None:
    """A misspelt parameter is an error, not a silently ignored filter."""
    unknown = sorted(set(request.query) - known)
    if unknown:
        raise bad(unknown[0], f"unknown parameter (expected one of: {', '.join(sorted(known))})")


def texts(request: web.Request, name: str) -> tuple[str, ...]:
    """A list given as repeated parameters and/or comma-separated values."""
    return tuple(item for value in request.query.getall(name, []) for item in value.split(",") if item)


def choices(request: web.Request, name: str, kind: type[E]) -> frozenset[E]:
    """A set of enum values (none given: empty, i.e. no filter)."""
    out = set()
    for text in texts(request, name):
        if text not in set(kind):
            raise bad(name, f"expected one of {', '.join(kind)}, got {text!r}")
        out.add(kind(text))
    return frozenset(out)


def choice(request: web.Request, name: str, kind: type[E], default: E) -> E:
    found = choices(request, name, kind)
    if len(found) > 1:
        raise bad(name, "expected one value")
    return next(iter(found), default)


MAX_ID = 2**63 - 1  # the largest integer a SQLite column holds


def natural(text: str) -> int | None:
    """`text` as an integer from 0 to MAX_ID, or None: `str.isdigit` alone passes '²' and 5000 digits."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def integer(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    number = natural(text)
    if number is None or not low <= number <= high:
        raise bad(name, f"expected an integer between {low} and {high}, got {text!r}")
    return number


def flag(request: web.Request, name: str) -> bool | None:
    text = request.query.get(name)
    if text is None:
        return None
    if text not in ("true", "false"):
        raise bad(name, f"expected true or false, got {text!r}")
    return text == "true"


TIME_EXPECTED = "expected an ISO 8601 time such as 2026-03-01T12:00:00Z or epoch seconds"
_EARLIEST = datetime(1, 1, 1, tzinfo=UTC).timestamp()
_LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()


def moment(text: str) -> float:
    """UTC epoch seconds from ISO 8601 (UTC when no zone is given) or epoch seconds; ValueError if neither."""
    try:
        number = float(text)
    except ValueError:
        parsed = datetime.fromisoformat(text)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    if not _EARLIEST <= number <= _LATEST:  # NaN too; beyond these no datetime nor SQLite integer holds it
        raise ValueError(f"{text!r} is not a time between the years 1 and 9999")
    return number


def time_param(request: web.Request, name: str) -> float | None:
    text = request.query.get(name)
    if text is None:
        return None
    try:
        return moment(text)
    except ValueError:
        raise bad(name, f"{TIME_EXPECTED}, got {text!r}") from None


def page(request: web.Request, max_limit: int = 1000) -> tuple[int, int]:
    """`limit` (default 100) and `offset` (default 0)."""
    return integer(request, "limit", 100, 1, max_limit), integer(request, "offset", 0, 0, 10**9)
