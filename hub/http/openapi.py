"""The REST API's OpenAPI 3 document, served as JSON at /api/openapi.json.

Written by hand, one YAML file per area in hub/http/openapi_spec/ (next to docs/rest.md, which
explains the same endpoints in prose): base.yaml holds the info and the shared components, every
other file its `paths` and any components of its own. tests/http/test_openapi.py checks the merged
document against the registered routes and fuzzes every operation with schemathesis.
"""

import functools
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from hub import __version__

routes = web.RouteTableDef()

SPEC_DIR = Path(__file__).with_name("openapi_spec")
BASE = "base.yaml"


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The merged document, with this hub's version; a path or component defined twice is a bug."""
    document = _load(SPEC_DIR / BASE)
    document["info"]["version"] = __version__
    document.setdefault("paths", {})
    for part in sorted(SPEC_DIR.glob("*.yaml")):
        if part.name == BASE:
            continue
        fragment = _load(part)
        _merge(document["paths"], fragment.get("paths", {}), f"{part.name}: path")
        for section, entries in fragment.get("components", {}).items():
            _merge(document["components"].setdefault(section, {}), entries, f"{part.name}: {section}")
    return document


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _merge(into: dict[str, Any], entries: dict[str, Any], what: str) -> None:
    for key, value in entries.items():
        if key in into:
            raise ValueError(f"{what} {key!r} is defined twice")
        into[key] = value


@routes.get("/api/openapi.json")
async def get_openapi(request: web.Request) -> web.Response:
    """The OpenAPI document: what tools such as schemathesis or an API client generator read."""
    return web.json_response(openapi_document())
