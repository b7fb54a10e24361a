"""`bms-hub simulate modbus`: found through the entry point; bad arguments and profiles say why."""

import pytest

from hub.integration_commands import SIMULATE, domains_with, run_simulate


def test_simulate__offered_for_modbus():
    assert "modbus" in domains_with(SIMULATE)


def test_simulate__a_missing_profile_file_exits_2(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_simulate(["modbus", "--profile", "meter.yaml", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}/meter.yaml: no such profile file (built-in profiles: energy_meter, vfd)" in err


def test_simulate__a_bad_profile_file_exits_2_with_its_lines(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "meter.yaml").write_text("points:\n  - {name: a, address: 0, type: float16}\n")
    assert run_simulate(["modbus", "--profile", "meter.yaml"]) == 2
    assert "meter.yaml:2: points[0].type: expected one of" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "holding:x=4"], "expected TABLE:ADDRESS=CODE like holding:40=4, got 'holding:x=4'"),
        (["--fault", "holding:4=99"], "expected TABLE:ADDRESS=CODE"),
        (["--unit", "300"], "expected unit ids between 0 and 255, got '300'"),
        (["--unit", "a-b"], "expected a unit id or a range like 1-20, got 'a-b'"),
    ],
)
def test_simulate__bad_arguments(capsys, args, message):
    with pytest.raises(SystemExit) as exited:
        run_simulate(["modbus", *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
