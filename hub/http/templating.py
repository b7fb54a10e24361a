"""Server-rendered pages: the Jinja2 environment over frontend/templates and the static assets route.

Pages are plain Jinja2 (no aiohttp-jinja2: one `render()` is all the hub needs). Templates are
autoescaped; every asset is vendored under frontend/static (sites are offline).
"""

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from hub.http.auth_rules import required_access
from hub.http.keys import ROLE_KEY

FRONTEND_DIR = Path(__file__).resolve().parents[2] / "frontend"
TEMPLATES_DIR = FRONTEND_DIR / "templates"
STATIC_DIR = FRONTEND_DIR / "static"
STATIC_PREFIX = "/static"

JINJA_KEY = web.AppKey("jinja", jinja2.Environment)


def setup_templating(app: web.Application) -> None:
    """Give `app` its template environment and serve frontend/static under /static."""
    app[JINJA_KEY] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(("html",)),
        undefined=jinja2.StrictUndefined,  # a missing variable is a bug, not an empty string
        enable_async=True,
    )
    app.router.add_static(STATIC_PREFIX, STATIC_DIR, append_version=True, name="static")
    app[JINJA_KEY].globals["static"] = lambda path: str(app.router["static"].url_for(filename=path))
    app[JINJA_KEY].globals["may"] = may


@jinja2.pass_context
def may(context: jinja2.runtime.Context, method: str, path: str) -> bool:
    """Whether the page's user may call `method path` (a canonical route path, as in hub.http.auth_rules).

    Pages show a control only to a user whose role may use it, by the same table the server
    enforces, so a viewer never meets a button that answers 403.
    """
    role = context["request"].get(ROLE_KEY)
    access = required_access(method, path)
    if role is None or access is None:
        return False
    needed = access.role
    return needed is None or role.allows(needed)


async def render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    """Render template `name` with `context` (plus the request) as an HTML response."""
    template = request.app[JINJA_KEY].get_template(name)
    html = await template.render_async(request=request, **context)
    return web.Response(text=html, status=status, content_type="text/html")
