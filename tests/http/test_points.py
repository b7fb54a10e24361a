"""REST points: fresh reads, writes through the command service, live values and the compact latest data."""

import time

import pytest

from hub.commands import AuditEvent, WriteOutcome, WriteSource
from hub.points import Quality, Sample
from tests.conftest import RunningHub
from tests.http.helpers import call

# -- POST /api/points/read -------------------------------------------------------------------


async def test_read__fresh_values_in_request_order(fakes_hub: RunningHub):
    alpha, beta = fakes_hub.fake("alpha"), fakes_hub.fake("beta")
    alpha.devices["alpha-2"].values["alpha-2.p1"] = 7.25
    beta.fixed["beta-1.p0"] = Sample(None, time.time(), Quality.BAD, "sensor open")
    reads_before = len(alpha.history)

    status, body = await call(
        fakes_hub, "POST", "/api/points/read", {"point_ids": ["beta-1.p0", "alpha-2.p1"]}
    )

    assert status == 200
    assert list(body["samples"]) == ["beta-1.p0", "alpha-2.p1"]
    assert body["samples"]["alpha-2.p1"]["value"] == 7.25
    assert body["samples"]["alpha-2.p1"]["quality"] == "good"
    assert body["samples"]["alpha-2.p1"]["timestamp"].endswith("Z")
    assert body["samples"]["beta-1.p0"] == {
        "value": None,
        "quality": "bad",
        "timestamp": body["samples"]["beta-1.p0"]["timestamp"],
        "reason": "sensor open",
    }
    assert len(alpha.history) > reads_before, "read from the device, not from the cache"
    assert fakes_hub.hub.points.latest("alpha-2.p1").value == 7.25


async def test_read__a_device_that_does_not_answer_gives_bad_samples(fakes_hub: RunningHub):
    alpha = fakes_hub.fake("alpha")
    alpha.devices["alpha-1"].fail(1_000, ConnectionResetError("link down"))

    status, body = await call(fakes_hub, "POST", "/api/points/read", {"point_ids": ["alpha-1.p0"]})

    assert status == 200
    sample = body["samples"]["alpha-1.p0"]
    assert (sample["value"], sample["quality"], sample["reason"]) == (
        None,
        "bad",
        "ConnectionResetError: link down",
    )


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"point_ids": ["alpha-1.p0", "nope", "gone"]}, 404, "unknown points: 'nope', 'gone'"),
        ({"point_ids": []}, 422, "point_ids: expected at least one point id"),
        ({"point_ids": ["alpha-1.p0", 1]}, 422, "point_ids[1]: expected a non-empty string"),
        ({}, 422, "point_ids: required"),
        ({"point_ids": ["alpha-1.p0"], "fresh": True}, 422, "fresh: unknown field"),
        ("alpha-1.p0", 422, "body: expected a JSON object"),
    ],
)
async def test_read__invalid(fakes_hub: RunningHub, body, status, error):
    assert await call(fakes_hub, "POST", "/api/points/read", body) == (status, {"error": error})


# -- POST /api/points/write ------------------------------------------------------------------


@pytest.fixture
def audit(fakes_hub: RunningHub) -> list[AuditEvent]:
    """Every audit event the command service publishes during the test."""
    events: list[AuditEvent] = []
    fakes_hub.hub.bus.subscribe(AuditEvent, events.append)
    return events


async def test_write__within_limits_is_written_and_read_back(fakes_hub: RunningHub, audit):
    alpha = fakes_hub.fake("alpha")
    await fakes_hub.hub.poller.read_now(["alpha-1.setpoint"])  # the device's value before: 0.0
    body = {"point_id": "alpha-1.setpoint", "value": 22.5, "priority": 10}

    status, result = await call(fakes_hub, "POST", "/api/points/write", body, user="operator")

    assert status == 200
    assert result == {
        "outcome": "written",
        "point_id": "alpha-1.setpoint",
        "old": 0.0,
        "new": 22.5,
        "priority": 10,
        "reason": None,
        "verified": True,
        "refusal": None,
    }
    assert alpha.writes == [("alpha-1.setpoint", 22.5, 10)]
    _, read = await call(fakes_hub, "POST", "/api/points/read", {"point_ids": ["alpha-1.setpoint"]})
    assert read["samples"]["alpha-1.setpoint"]["value"] == 22.5
    (event,) = audit
    assert (event.actor, event.source, event.outcome) == ("operator", WriteSource.REST, WriteOutcome.WRITTEN)


async def test_write__default_priority_8_and_null_relinquishes(fakes_hub: RunningHub):
    alpha = fakes_hub.fake("alpha")
    await call(fakes_hub, "POST", "/api/points/write", {"point_id": "alpha-1.enable", "value": True})
    status, result = await call(
        fakes_hub, "POST", "/api/points/write", {"point_id": "alpha-1.enable", "value": None}
    )
    assert status == 200
    assert (result["outcome"], result["old"], result["new"], result["verified"]) == (
        "written",
        True,
        None,
        None,
    )
    assert alpha.writes == [("alpha-1.enable", True, 8), ("alpha-1.enable", None, 8)]


async def test_write__dry_run_checks_but_does_not_write(fakes_hub: RunningHub, audit):
    body = {"point_id": "alpha-1.setpoint", "value": 12, "dry_run": True}
    status, result = await call(fakes_hub, "POST", "/api/points/write", body)
    assert (status, result["outcome"], result["reason"]) == (200, "dry_run", None)
    assert fakes_hub.fake("alpha").writes == []
    assert [event.outcome for event in audit] == [WriteOutcome.DRY_RUN]


@pytest.mark.parametrize(
    ("body", "expected_status", "error"),
    [
        ({"point_id": "alpha-1.setpoint", "value": 35}, 422, "value: 35 is above the maximum 30"),
        (
            {"point_id": "alpha-1.setpoint", "value": "warm"},
            422,
            "value: an analog point takes a number, not 'warm'",
        ),
        ({"point_id": "alpha-1.p0", "value": 1.0}, 409, "point_id: point 'alpha-1.p0' is not writable"),
        ({"point_id": "nope", "value": 1}, 404, "point_id: unknown point 'nope'"),
    ],
)
async def test_write__refused_with_the_reason_and_audited(
    fakes_hub: RunningHub, audit, body, expected_status, error
):
    status, result = await call(fakes_hub, "POST", "/api/points/write", body)

    assert status == expected_status
    reason = error.split(": ", 1)[1]
    assert (result["outcome"], result["reason"], result["new"]) == ("refused", reason, body["value"])
    assert result["error"] == error
    assert fakes_hub.fake("alpha").writes == []
    (event,) = audit
    assert (event.actor, event.outcome, event.reason) == ("admin", WriteOutcome.REFUSED, reason)


async def test_write__device_refusal_is_502(fakes_hub: RunningHub):
    fakes_hub.fake("alpha").devices["alpha-1"].write_error = "out of service"
    status, result = await call(
        fakes_hub, "POST", "/api/points/write", {"point_id": "alpha-1.setpoint", "value": 20}
    )
    assert status == 502
    assert (result["outcome"], result["reason"]) == ("failed", "refused by the device: out of service")


SETPOINT = {"point_id": "alpha-1.setpoint", "value": 20}
PRIORITY = "priority: expected int between 1 and 16"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({**SETPOINT, "priority": 0}, 422, PRIORITY),
        ({**SETPOINT, "priority": 17}, 422, PRIORITY),
        ({**SETPOINT, "priority": "8"}, 422, PRIORITY),
        ({**SETPOINT, "priority": True}, 422, PRIORITY),
        ({"point_id": "alpha-1.setpoint"}, 422, "value: required"),
        (
            {**SETPOINT, "value": [1]},
            422,
            "value: expected a number, true/false, a string or null (relinquish)",
        ),
        ({**SETPOINT, "dry_run": "yes"}, 422, "dry_run: expected true or false"),
        ({"value": 20}, 422, "point_id: required"),
        ({**SETPOINT, "point_id": ""}, 422, "point_id: expected a non-empty string"),
        ({**SETPOINT, "who": "me"}, 422, "who: unknown field"),
    ],
)
async def test_write__invalid(fakes_hub: RunningHub, audit, body, status, error):
    assert await call(fakes_hub, "POST", "/api/points/write", body) == (status, {"error": error})
    assert audit == [], "an invalid request never reaches the command service"


async def test_write__several_field_errors_are_all_named(fakes_hub: RunningHub):
    status, body = await call(fakes_hub, "POST", "/api/points/write", {"priority": 0, "value": 1})
    assert status == 422
    assert sorted(body["error"].split("; ")) == [
        "point_id: required",
        "priority: expected int between 1 and 16",
    ]


async def test_write__invalid_json_400(fakes_hub: RunningHub):
    status, body = await call(fakes_hub, "POST", "/api/points/write", data=b"{'point_id': 1}")
    assert status == 400
    assert body["error"].startswith("invalid JSON: ")


# -- GET /api/points/live and /api/data/latest -----------------------------------------------

BETA_POINTS = ["beta-1.p0", "beta-1.p1", "beta-1.setpoint", "beta-1.enable"]


async def read_everything(running: RunningHub) -> None:
    """Make every point's latest sample what its fake device says now."""
    await running.hub.poller.read_now([point.id for point in running.hub.points.points()])


async def test_live__every_point_with_its_stale_flag(fakes_hub: RunningHub):
    alpha = fakes_hub.fake("alpha")
    alpha.devices["alpha-2"].values["alpha-2.p0"] = 3.5
    alpha.fixed["alpha-2.p1"] = Sample(9.0, time.time() - 5 * 3600, Quality.GOOD)
    await read_everything(fakes_hub)

    status, body = await call(fakes_hub, "GET", "/api/points/live")

    assert status == 200
    assert body["timestamp"].endswith("Z")
    points = {point["point_id"]: point for point in body["points"]}
    assert len(points) == 12
    assert {k: points["alpha-2.p0"][k] for k in ("device_id", "value", "quality", "reason", "stale")} == {
        "device_id": "alpha-2",
        "value": 3.5,
        "quality": "good",
        "reason": None,
        "stale": False,
    }
    assert (points["alpha-2.p1"]["value"], points["alpha-2.p1"]["stale"]) == (9.0, True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("device=beta-1", BETA_POINTS),
        ("points=alpha-1.p0,beta-1.enable", ["alpha-1.p0", "beta-1.enable"]),
        ("points=alpha-1.p0&points=alpha-2.p0", ["alpha-1.p0", "alpha-2.p0"]),
        ("device=beta-1&points=alpha-1.p0", ["alpha-1.p0", *BETA_POINTS]),
    ],
)
async def test_live__filters(fakes_hub: RunningHub, query, expected):
    status, body = await call(fakes_hub, "GET", f"/api/points/live?{query}")
    assert status == 200
    assert [point["point_id"] for point in body["points"]] == expected


@pytest.mark.parametrize("path", ["/api/points/live", "/api/data/latest"])
@pytest.mark.parametrize(
    ("query", "error"),
    [("device=nope,beta-1", "unknown devices: 'nope'"), ("points=alpha-1.p0,nope", "unknown points: 'nope'")],
)
async def test_filters__unknown_ids_404(fakes_hub: RunningHub, path, query, error):
    assert await call(fakes_hub, "GET", f"{path}?{query}") == (404, {"error": error})


async def test_latest__values_and_the_doubtful_points(fakes_hub: RunningHub):
    beta = fakes_hub.fake("beta")
    beta.devices["beta-1"].values.update({"beta-1.p0": 19.5, "beta-1.setpoint": 21.0, "beta-1.enable": True})
    beta.fixed["beta-1.p1"] = Sample(None, time.time(), Quality.BAD, "sensor open")
    await read_everything(fakes_hub)
    beta.fixed["beta-1.setpoint"] = Sample(20.5, time.time() - 5 * 3600, Quality.UNCERTAIN, "cached")
    await fakes_hub.hub.poller.read_now(["beta-1.setpoint"])

    status, body = await call(fakes_hub, "GET", "/api/data/latest?device=beta-1")

    assert status == 200
    assert body["timestamp"].endswith("Z")
    assert body["values"] == {
        "beta-1.p0": 19.5,
        "beta-1.p1": None,
        "beta-1.setpoint": 20.5,
        "beta-1.enable": True,
    }
    assert body["problems"] == {
        "beta-1.p1": {"quality": "bad", "reason": "sensor open", "stale": False},
        "beta-1.setpoint": {"quality": "uncertain", "reason": "cached", "stale": True},
    }


# -- GET /api/points/{point_id}/priority (served by a real device: tests/integrations/bacnet) ------


async def test_priority__an_integration_without_priority_arrays_409_unknown_point_404(fakes_hub: RunningHub):
    status, body = await call(fakes_hub, "GET", "/api/points/alpha-1.p0/priority")
    assert (status, body) == (
        409,
        {"error": "point 'alpha-1.p0': integration 'alpha' has no priority arrays"},
    )
    status, body = await call(fakes_hub, "GET", "/api/points/nope/priority")
    assert (status, body) == (404, {"error": "unknown points: 'nope'"})
