"""Real answers checked against /api/openapi.json, for the alarms and flows the fuzz run's demo site lacks."""

from typing import Any

import jsonschema_rs  # installed with schemathesis

from hub.http.openapi import openapi_document
from tests.conftest import RunningHub
from tests.http.helpers import ABSENT, call


def mismatches(method: str, route: str, status: int, body: Any) -> list[str]:
    """Every way `body` breaks the documented `status` answer of `method route`; empty when it conforms."""
    document = openapi_document()
    responses = document["paths"][route][method.lower()]["responses"]
    response = responses.get(str(status), responses["default"])
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    schema = response["content"]["application/json"]["schema"]
    validator = jsonschema_rs.validator_for({**schema, "components": document["components"]})
    return [f"{error.message} at {list(error.instance_path)}" for error in validator.iter_errors(body)]


async def documented_call(
    running: RunningHub, method: str, route: str, body: Any = ABSENT, query: str = "", **path: object
) -> tuple[int, Any]:
    """`call` on `route` with its {parameters} from `path`, asserting that the answer is as documented."""
    status, answer = await call(running, method, route.format(**path) + query, body)
    assert not mismatches(method, route, status, answer), (method, route, status, answer)
    return status, answer
