"""THE route → minimum role table: one place that says who may call what.

A route is looked up by method and canonical path (`/api/devices/{device_id}`): first the exact
entries in ROUTES, then the prefix rules in PREFIXES (longest prefix first), which cover whole
areas other modules add routes to: reads need `viewer`, writes `operator` unless the area says
otherwise. A route found in neither is refused to everyone (and a test fails for it): add it here.
"""

from dataclasses import dataclass
from enum import StrEnum

from hub.auth.roles import Role


class Access(StrEnum):
    """Who may call a route: anyone, or a logged-in user or token of at least a role."""

    PUBLIC = "public"
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def role(self) -> Role | None:
        return None if self is Access.PUBLIC else Role(self.value)


READS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC, VIEWER, OPERATOR, ADMIN = Access.PUBLIC, Access.VIEWER, Access.OPERATOR, Access.ADMIN

# (method, canonical path) -> access. HEAD follows GET (aiohttp adds it to every GET route).
ROUTES: dict[tuple[str, str], Access] = {
    # public: health checks, static assets, the broker (it authenticates its own clients), login and setup
    ("GET", "/api/health"): PUBLIC,
    ("GET", "/static"): PUBLIC,
    ("GET", "/mqtt"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/setup"): PUBLIC,
    ("POST", "/setup"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    # any logged-in user
    ("POST", "/logout"): VIEWER,
    ("POST", "/api/auth/logout"): VIEWER,
    ("GET", "/api/auth/me"): VIEWER,
    ("POST", "/api/auth/mqtt-credentials"): VIEWER,
    # devices and points: reading is viewing, even through POST
    ("GET", "/api/devices"): VIEWER,
    ("GET", "/api/devices/{device_id}"): VIEWER,
    ("GET", "/api/devices/{device_id}/objects"): VIEWER,
    ("POST", "/api/points/read"): VIEWER,
    ("GET", "/api/points/live"): VIEWER,
    ("GET", "/api/points/{point_id}/priority"): VIEWER,
    ("GET", "/api/data/latest"): VIEWER,
    ("GET", "/api/data/timeseries"): VIEWER,
    ("POST", "/api/points/write"): OPERATOR,
    # discovery
    ("GET", "/api/devices/discover"): VIEWER,
    ("GET", "/api/devices/discover/{operation_id}"): VIEWER,
    ("POST", "/api/devices/discover"): OPERATOR,
    ("POST", "/api/devices/discover/{operation_id}/cancel"): OPERATOR,
    # devices added to monitoring from discovery
    ("GET", "/api/devices/monitored"): VIEWER,
    ("POST", "/api/devices/monitored"): OPERATOR,
    ("DELETE", "/api/devices/monitored/{device_id}"): OPERATOR,
    # integrations: anyone sees them, only admins change them
    ("GET", "/api/integrations"): VIEWER,
    # the API's own description, and metrics for monitoring tools (scrape with an API token)
    ("GET", "/api/openapi.json"): VIEWER,
    ("GET", "/metrics"): VIEWER,
    # administration
    ("GET", "/api/users"): ADMIN,
    ("POST", "/api/users"): ADMIN,
    ("GET", "/api/users/{name}"): ADMIN,
    ("PATCH", "/api/users/{name}"): ADMIN,
    ("DELETE", "/api/users/{name}"): ADMIN,
    ("GET", "/api/tokens"): ADMIN,
    ("POST", "/api/tokens"): ADMIN,
    ("DELETE", "/api/tokens/{token_id}"): ADMIN,
    ("GET", "/api/audit"): ADMIN,
    # BMS connections: mapping points and the test button are an operator's job (the rest: /api/bms below)
    ("POST", "/api/bms/connections/{connection_id}/mappings"): OPERATOR,
    ("PATCH", "/api/bms/connections/{connection_id}/mappings/{mapping_id}"): OPERATOR,
    ("DELETE", "/api/bms/connections/{connection_id}/mappings/{mapping_id}"): OPERATOR,
    ("POST", "/api/bms/connections/{connection_id}/test"): OPERATOR,
    # the BMS page does the same through its own routes (the rest: /bms below)
    ("POST", "/bms/{connection_id}/mappings"): OPERATOR,
    ("PATCH", "/bms/{connection_id}/mappings/{mapping_id}"): OPERATOR,
    ("DELETE", "/bms/{connection_id}/mappings/{mapping_id}"): OPERATOR,
    ("POST", "/bms/{connection_id}/test"): OPERATOR,
    # web UI pages
    ("GET", "/"): VIEWER,
}


@dataclass(frozen=True)
class PrefixRule:
    """Every route under `prefix`: `reads` for GET/HEAD/OPTIONS, `writes` for the other methods."""

    prefix: str
    reads: Access = VIEWER
    writes: Access = OPERATOR


# Areas other modules add routes to. A path matches `prefix` itself or anything below `prefix/`.
PREFIXES: tuple[PrefixRule, ...] = (
    PrefixRule("/api/flows"),  # deploying flows is an operator's job
    PrefixRule("/api/config"),
    PrefixRule("/api/execution"),
    PrefixRule("/api/alarms"),  # acknowledging alarms too
    PrefixRule("/api/status-cards"),
    PrefixRule("/api/events"),  # the activity feed
    PrefixRule("/api/integrations", writes=ADMIN),
    PrefixRule("/api/users", reads=ADMIN, writes=ADMIN),
    PrefixRule("/api/tokens", reads=ADMIN, writes=ADMIN),
    PrefixRule("/api/audit", reads=ADMIN, writes=ADMIN),
    PrefixRule("/api/secrets", reads=ADMIN, writes=ADMIN),
    PrefixRule("/api/bms", writes=ADMIN),  # connections, credentials (reveal, regenerate)
    PrefixRule("/integrations", writes=ADMIN),  # routes integrations mount under /integrations/<domain>/
    PrefixRule("/devices"),
    PrefixRule("/points"),
    PrefixRule("/discovery"),
    PrefixRule("/activity"),
    PrefixRule("/events"),  # server-sent event streams of the UI
    PrefixRule("/live"),
    PrefixRule("/flows"),
    PrefixRule("/alarms"),
    PrefixRule("/bms", writes=ADMIN),  # the BMS page: connections and credentials, like /api/bms
    PrefixRule("/admin", reads=ADMIN, writes=ADMIN),
)
_BY_LENGTH = sorted(PREFIXES, key=lambda rule: len(rule.prefix), reverse=True)


def required_access(method: str, path: str) -> Access | None:
    """Who may call `method path` (a canonical route path); None when the table has no rule for it."""
    method = "GET" if method == "HEAD" else method
    exact = ROUTES.get((method, path))
    if exact is not None:
        return exact
    for rule in _BY_LENGTH:
        if path == rule.prefix or path.startswith(rule.prefix + "/"):
            return rule.reads if method in READS else rule.writes
    return None
