"""What every dashboard page shares: the navigation, the site's name, the alarm slot and request headers."""

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from hub.http.keys import HUB_KEY, ROLE_KEY
from hub.http.templating import render


class FormError(ValueError):
    """A form field that cannot be used; the message names the field."""


@dataclass(frozen=True)
class NavItem:
    """One entry of the main navigation."""

    label: str
    href: str
    current: bool = False


NAV = (
    ("Overview", "/"),
    ("Devices", "/devices"),
    ("Alarms", "/alarms"),
    ("Discovery", "/discovery"),
    ("Flows", "/flows"),
    ("Activity", "/activity"),
    ("BMS", "/bms"),
    ("MQTT", "/live/broker"),
)
ALARM_COUNTS_URL = "/api/alarms/counts"  # served by the alarms service, when the hub has one
CSRF_HEADER_KEY = web.RequestKey("csrf_header", dict[str, str])  # set by hub.http.auth: {header: token}


def is_htmx(request: web.Request) -> bool:
    """Whether htmx made the request (it then wants a fragment, not a whole page)."""
    return request.headers.get("HX-Request") == "true"


async def page(
    request: web.Request, template: str, section: str, status: int = 200, **context: Any
) -> web.Response:
    """Render a full page with the shared layout; `section` is the navigation entry to mark."""
    hub = request.app[HUB_KEY]
    identity = hub.identity if hub.started_at else None
    return await render(
        request,
        template,
        status=status,
        nav=[NavItem(label, href, href == section) for label, href in NAV],
        site_label=f"{identity.org_id} / {identity.site_id} / {identity.iot_device_id}" if identity else "",
        alarm_counts_url=ALARM_COUNTS_URL if getattr(hub, "alarms", None) is not None else None,
        request_headers=request.get(CSRF_HEADER_KEY) or {},
        user_role=request.get(ROLE_KEY),  # read-only pages say why ("Read-only: your role is viewer")
        **context,
    )
