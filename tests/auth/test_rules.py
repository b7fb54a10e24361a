"""The route table: exact entries, prefix areas, and no rule for an unknown route."""

import pytest

from hub.http.auth_rules import ADMIN, OPERATOR, PUBLIC, VIEWER, required_access


@pytest.mark.parametrize(
    ("method", "path", "access"),
    [
        ("GET", "/api/health", PUBLIC),
        ("HEAD", "/api/health", PUBLIC),
        ("POST", "/api/points/read", VIEWER),
        ("POST", "/api/points/write", OPERATOR),
        ("DELETE", "/api/users/{name}", ADMIN),
        ("GET", "/api/flows/{flow_id}/trace", VIEWER),  # prefix areas: reads are viewing...
        ("POST", "/api/flows/{flow_id}/deploy", OPERATOR),  # ...and writes acting
        ("POST", "/api/alarms/{alarm_id}/acknowledge", OPERATOR),
        ("GET", "/api/flows", VIEWER),  # the prefix itself
        ("PUT", "/api/integrations/{domain}", ADMIN),
        ("GET", "/api/secrets/{name}", ADMIN),
        ("GET", "/events/points", VIEWER),
        ("POST", "/devices/{device_id}/rename", OPERATOR),
    ],
)
def test_required_access__valid(method, path, access):
    assert required_access(method, path) is access


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/unknown"), ("POST", "/api/health"), ("GET", "/api/flowsy"), ("GET", "/devicesx")],
)
def test_required_access__no_rule(method, path):
    assert required_access(method, path) is None
