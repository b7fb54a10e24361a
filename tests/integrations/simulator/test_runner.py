"""`python -m integrations.simulator`: the same scenario and seed print the same JSON lines."""

import json
import subprocess
import sys
from pathlib import Path

from integrations.simulator.runner import main, run_headless
from integrations.simulator.simulation import Simulation

REPO = Path(__file__).resolve().parents[3]


def simulator(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "integrations.simulator", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def test_cli__prints_every_point_at_every_step_as_json_lines():
    result = simulator("demo", "--minutes", "1", "--seed", "3", "--step", "30")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3 * 37  # t = 0, 30, 60; the demo has 37 points
    assert [line["t"] for line in lines[::37]] == [0, 30, 60]
    assert lines[0] == {
        "t": 0,
        "point": "ahu-1.outdoor_air_temp",
        "value": lines[0]["value"],
        "quality": "good",
    }
    assert lines[-1]["point"] == "ch-2.status"


def test_cli__same_scenario_and_seed_print_the_same_lines_another_seed_does_not():
    first = simulator("demo", "--minutes", "10", "--seed", "1")
    again = simulator("demo", "--minutes", "10", "--seed", "1")
    other = simulator("demo", "--minutes", "10", "--seed", "2")
    assert first.stdout == again.stdout
    assert first.stdout != other.stdout
    assert len(first.stdout.splitlines()) == len(other.stdout.splitlines()) == 121 * 37


def test_cli__a_scenario_file_with_faults_shows_them(tmp_path):
    from tests.integrations.simulator.conftest import SMALL_SITE

    (tmp_path / "faults.yaml").write_text(SMALL_SITE + "steps:\n  - {at: 1m, offline: vav-2}\n")
    result = simulator("faults.yaml", "--minutes", "1", "--step", "60", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    late = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"t": 60')]
    vav2 = [line for line in late if line["point"].startswith("vav-2.")]
    assert {(line["quality"], line["value"], line["reason"]) for line in vav2} == {
        ("bad", None, "vav-2 does not answer (scenario step at 1m)")
    }


def test_cli__a_bad_scenario_is_reported_at_its_line(tmp_path):
    (tmp_path / "bad.yaml").write_text("ahu: {id: ahu-1}\nvavs: [{id: vav-1}]\nmeter: {id: m, phase: 3}\n")
    result = simulator("bad.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"{tmp_path / 'bad.yaml'}:3: meter.phase: unknown key (expected one of: id, name, base_load, energy)"
    )


def test_main__writes_json_lines_in_process(capsys):
    assert main(["demo", "--minutes", "0", "--seed", "9"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 37
    assert {json.loads(line)["t"] for line in lines} == {0}


def test_run_headless__matches_the_history_the_simulation_keeps(demo):
    simulation = Simulation(demo, seed=2)
    emitted = list(run_headless(simulation, duration=120, interval=10))
    assert emitted == list(simulation.history)
    assert sorted({e.sim_time for e in emitted}) == list(range(0, 121, 10))
