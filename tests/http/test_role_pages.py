"""Pages show a state-changing control only to a role that may use it, and say why a page is read-only."""

import pytest

from tests.conftest import RunningHub, StartHub
from tests.http.test_views_flows import FLOW
from tests.ui_site import add_users, logged_in, ui_config

USERS = {"vera": "viewer", "otto": "operator", "ada": "admin"}
READ_ONLY = "Read-only: your role is viewer."

# (page, the markup of its control): every control needs at least an operator.
CONTROLS = [
    ("/points/vav-3.zone_setpoint", 'id="write-form"'),
    ("/discovery", 'hx-post="/discovery/scan"'),
    ("/flows", 'href="/flows/new"'),
    ("/flows", 'hx-post="/api/execution/flows/sp_const/start"'),
    ("/flows", 'hx-post="/api/execution/flows/sp_const/stop"'),
    ("/flows/versions/1", 'hx-post="/api/config/versions/1/rollback"'),
    ("/flows/sp_const/edit", 'id="save"'),
    ("/flows/sp_const/edit", 'id="deploy"'),
    ("/flows/sp_const/edit", 'id="dry-run"'),
    ("/flows/sp_const/edit", 'id="replay"'),
]


@pytest.fixture
async def site(start_hub: StartHub, tmp_path) -> RunningHub:
    """The demo site with a flow deployed twice (version 1 can be rolled back to)."""
    running = await start_hub(ui_config(tmp_path))
    await add_users(running.hub)
    await running.hub.flows.deploy({"sp_const.yaml": FLOW}, "otto", "first")
    await running.hub.flows.deploy({"sp_const.yaml": FLOW.replace("x: 40", "x: 60")}, "otto", "moved")
    return running


async def test_pages__each_role_sees_exactly_the_controls_it_may_use(site: RunningHub):
    seen: dict[tuple[str, str, str], bool] = {}
    for user in USERS:
        async with await logged_in(site, user) as http:
            for path in dict.fromkeys(path for path, _ in CONTROLS):
                async with http.get(path) as answer:
                    assert answer.status == 200, (user, path)
                    html = await answer.text()
                for page, control in CONTROLS:
                    if page == path:
                        seen[(user, path, control)] = control in html
                assert (READ_ONLY in html) == (user == "vera"), (user, path)
    assert seen == {(user, path, control): user != "vera" for user in USERS for path, control in CONTROLS}


async def test_pages__the_controls_a_viewer_does_not_see_are_refused_to_it(site: RunningHub):
    """The table the pages ask is the one the server enforces: what is hidden would answer 403."""
    async with await logged_in(site, "vera") as http:
        for method, path in [
            ("POST", "/points/vav-3.zone_setpoint/write"),
            ("POST", "/discovery/scan"),
            ("POST", "/flows/yaml"),
            ("POST", "/api/execution/flows/sp_const/start"),
            ("POST", "/api/config/versions/1/rollback"),
            ("POST", "/api/config/deploy"),
            ("POST", "/api/flows/sp_const/dry-run"),
            ("POST", "/api/flows/sp_const/replay"),
            ("POST", "/discovery/monitor"),
            ("POST", "/discovery/unmonitor"),
        ]:
            async with http.request(method, path) as answer:
                assert answer.status == 403, (method, path)
