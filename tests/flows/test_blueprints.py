"""Blueprints: a change reaches every instance, `bms-hub flows diff` says what will change first."""

from pathlib import Path

from hub.cli import main
from hub.commands import AuditEvent
from tests.conftest import RunningHub
from tests.flows.conftest import Waiter
from tests.http.helpers import call

ZONE = """\
blueprint:
  name: Zone setpoint
  inputs:
    point: {type: point, description: the zone setpoint}
    setpoint: {type: number, default: 21}
nodes:
  - {id: sp, type: constant, value: !input setpoint}
  - {id: out, type: point_write, point: !input point, priority: 12}
edges:
  - {from: sp.value, to: out.value}
"""


def instance(flow_id: str, point: str) -> str:
    return (
        f"flow: {{id: {flow_id}}}\nuse_blueprint:\n  path: ../blueprints/zone.yaml\n"
        f"  inputs: {{point: {point}}}\n"
    )


OTHER = """\
nodes:
  - {id: sp, type: constant, value: 20}
  - {id: out, type: point_write, point: vav-4.zone_setpoint}
edges:
  - {from: sp.value, to: out.value}
"""


async def test_a_blueprint_change_reaches_every_instance(sim_hub: RunningHub, tmp_path: Path, capsys):
    files = {
        "blueprints/zone.yaml": ZONE,
        "z1.yaml": instance("z1", "vav-1.zone_setpoint"),
        "z2.yaml": instance("z2", "vav-2.zone_setpoint"),
        "other.yaml": OTHER,
    }
    status, first = await call(sim_hub, "POST", "/api/config/deploy", {"files": files})
    assert (status, first["started"]) == (200, ["other", "z1", "z2"])
    (tmp_path / "hub.yaml").write_text("data_dir: data\n")
    blueprint = tmp_path / "blueprints" / "zone.yaml"
    blueprint.write_text(ZONE.replace("priority: 12", "priority: 11"))

    assert main(["flows", "diff", "--config", str(tmp_path / "hub.yaml")]) == 0
    assert capsys.readouterr().out == (
        "z1 (blueprint blueprints/zone.yaml):\n  node out: priority 12 -> 11\n"
        "z2 (blueprint blueprints/zone.yaml):\n  node out: priority 12 -> 11\n"
    )
    audit = Waiter(sim_hub.hub.bus, AuditEvent)
    _, reloaded = await call(sim_hub, "POST", "/api/config/reload")

    assert (reloaded["started"], reloaded["stopped"]) == (["z1", "z2"], ["z1", "z2"])
    for flow_id, point in (("z1", "vav-1.zone_setpoint"), ("z2", "vav-2.zone_setpoint")):
        written = await audit.until(lambda e, point=point: e.point_id == point and e.priority == 11)
        assert (written.new, written.actor) == (21, f"flow:{flow_id}")


def test_flows_validate_reports_every_issue(tmp_path: Path, capsys):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "bad.yaml").write_text("nodes:\n  - {id: a, type: konstant}\n")
    (tmp_path / "hub.yaml").write_text("data_dir: data\n")

    assert main(["flows", "validate", "--config", str(tmp_path / "hub.yaml")]) == 2
    message = "unknown node type 'konstant' (did you mean 'constant'?)"
    assert capsys.readouterr().err == f"{tmp_path}/flows/bad.yaml:2: flow bad: node a: {message}\n"
    assert main(["check-config", str(tmp_path / "hub.yaml")]) == 2
