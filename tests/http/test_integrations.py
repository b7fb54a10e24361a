"""REST integrations: installed with version, configured with state and error, loaded with health."""

import dataclasses

from tests.conftest import StartHub, fakes_config
from tests.http.helpers import call


async def test_list__installed_configured_and_loaded(start_hub: StartHub, fake_plugins, tmp_path):
    config = fakes_config(tmp_path)
    running = await start_hub(dataclasses.replace(config, integrations={"alpha": {"devices": 2}, "nope": {}}))

    status, body = await call(running, "GET", "/api/integrations")

    assert status == 200
    by_domain = {entry["domain"]: entry for entry in body["integrations"]}
    assert by_domain["alpha"] == {
        "domain": "alpha",
        "installed": True,
        "distribution": "bms-hub-fakes",
        "version": "0.1.0",
        "module": "tests.fake_plugins:alpha",
        "configured": True,
        "state": "loaded",
        "error": None,
        "health": {"status": "ok", "devices": 2},
    }
    assert by_domain["beta"] == {
        "domain": "beta",
        "installed": True,
        "distribution": "bms-hub-fakes",
        "version": "0.1.0",
        "module": "tests.fake_plugins:beta",
        "configured": False,
        "state": None,
        "error": None,
        "health": None,
    }
    nope = by_domain["nope"]
    assert (nope["installed"], nope["configured"], nope["state"], nope["health"]) == (
        False,
        True,
        "not_found",
        None,
    )
    assert "no integration named 'nope' is installed" in nope["error"]
    assert list(by_domain) == sorted(by_domain)
