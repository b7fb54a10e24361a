"""Check the packaging that no other test exercises: Dockerfile, pyproject, scripts, README.

Docker cannot run on the development machines, so the Dockerfile is checked by reading it:
its command must be one the CLI accepts, and its health check is run for real against a
local server. run.sh and the shared venv logic run in a throwaway copy of the checkout
with a fake .venv, so no package is installed.
"""

import asyncio
import importlib
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ("run.sh", "test.sh", ".ci/run", "scripts/venv.sh")


def dockerfile_final_stage() -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) of the Dockerfile's last stage, continuations joined."""
    logical: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    instructions = [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def dockerfile_values(name: str) -> list[str]:
    return [args for instruction, args in dockerfile_final_stage() if instruction == name]


def exec_form(name: str) -> list[str]:
    """Return the JSON (exec form) arguments of the last NAME instruction."""
    values = dockerfile_values(name)
    assert values, f"Dockerfile has no {name}"
    parsed = json.loads(values[-1])
    assert isinstance(parsed, list), f"{name} must use the exec form (a JSON list)"
    return parsed


def healthcheck_command() -> list[str]:
    values = dockerfile_values("HEALTHCHECK")
    assert len(values) == 1, "the final stage needs exactly one HEALTHCHECK"
    options, _, command = values[0].partition("CMD ")
    assert command, "HEALTHCHECK needs a CMD"
    assert "--interval" in options
    return json.loads(command)


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def cli_parser():
    cli = pytest.importorskip("hub.cli", reason="hub.cli is not written yet")
    return cli.build_parser()


# --- Dockerfile ---------------------------------------------------------------------------


def test_dockerfile_command__is_accepted_by_the_cli():
    entrypoint = exec_form("ENTRYPOINT")
    command = exec_form("CMD")
    assert entrypoint == ["bms-hub"]
    assert "bms-hub" in pyproject()["project"]["scripts"]
    assert command[0] == "run"
    assert command[command.index("--data-dir") + 1] == "/data"
    cli_parser().parse_args(entrypoint[1:] + command)


@pytest.mark.parametrize(
    "argv",
    [
        # README "Container": the command with a mounted config, and the config check.
        ["run", "--config", "/data/config.yaml", "--data-dir", "/data", "--port", "8080"],
        ["check-config", "/data/config.yaml"],
    ],
)
def test_documented_container_commands__are_accepted_by_the_cli(argv):
    readme = (ROOT / "README.md").read_text()
    assert " ".join(argv) in readme
    cli_parser().parse_args(argv)


def test_dockerfile__exposes_only_8080():
    exposed = " ".join(dockerfile_values("EXPOSE")).split()
    assert exposed in (["8080"], ["8080/tcp"])
    command = exec_form("CMD")
    assert command[command.index("--port") + 1] == "8080"


def test_dockerfile__runs_as_a_non_root_user_owning_data():
    users = dockerfile_values("USER")
    assert users, "the final stage must set USER"
    assert users[-1].split(":")[0] not in ("root", "0")
    runs = " ".join(dockerfile_values("RUN"))
    assert "--uid 1000" in runs
    assert re.search(r"chown \S+ /data", runs)
    assert '"/data"' in " ".join(dockerfile_values("VOLUME"))


def test_dockerfile__final_stage_is_slim_python_without_build_tools():
    base = dockerfile_final_stage()[0][1]
    text = (ROOT / "Dockerfile").read_text()
    assert base == "${PYTHON_IMAGE}" or base.startswith("python:3.11-slim")
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    runs = " ".join(dockerfile_values("RUN"))
    for tool in ("build-essential", "gcc", "curl", "apt-get install"):
        assert tool not in runs


def test_dockerfile_healthcheck__calls_api_health_with_python():
    command = healthcheck_command()
    assert command[0] == "python"
    assert "urllib.request" in command[-1]
    assert "http://127.0.0.1:8080/api/health" in command[-1]


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
async def test_dockerfile_healthcheck__exit_code_follows_health_status(aiohttp_server, status, healthy):
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "test"}, status=status)

    app = web.Application()
    app.router.add_get("/api/health", health)
    server = await aiohttp_server(app)
    command = healthcheck_command()
    script = command[-1].replace("127.0.0.1:8080", f"127.0.0.1:{server.port}")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *command[1:-1],
        script,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert (await asyncio.wait_for(process.wait(), 30) == 0) is healthy


# --- pyproject ----------------------------------------------------------------------------


def test_console_script__points_at_an_importable_callable():
    target = pyproject()["project"]["scripts"]["bms-hub"]
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, attribute))


def test_pyproject__declares_the_integration_entry_point_group_and_pins_amqtt():
    project = pyproject()["project"]
    assert "bms_hub.integrations" in project["entry-points"]
    assert "amqtt>=0.12.1,<0.13" in project["dependencies"]
    assert pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "hub.__version__"}


def test_installed_distribution__matches_pyproject():
    """Catch a stale .venv: the installed metadata and every requirement must be current."""
    requirements_module = pytest.importorskip("packaging.requirements")
    try:
        distribution = importlib.metadata.distribution("bms-hub")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("bms-hub is not installed (./test.sh installs it)")
    import hub

    assert distribution.version == hub.__version__
    unmet = []
    for text in distribution.requires or []:
        requirement = requirements_module.Requirement(text)
        if requirement.marker and not requirement.marker.evaluate({"extra": "test"}):
            continue
        try:
            installed = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            unmet.append(f"{requirement} (not installed)")
            continue
        if not requirement.specifier.contains(installed, prereleases=True):
            unmet.append(f"{requirement} (installed {installed})")
    assert not unmet, "run ./test.sh to update .venv: " + ", ".join(unmet)


def test_pytest_config__fails_hung_tests(pytestconfig):
    assert pytestconfig.pluginmanager.hasplugin("timeout")
    assert int(pytestconfig.getini("timeout")) > 0


# --- scripts ------------------------------------------------------------------------------


@pytest.mark.parametrize("script", SCRIPTS)
def test_script__is_valid_bash(script):
    path = ROOT / script
    if script != "scripts/venv.sh":  # sourced, not run
        assert os.access(path, os.X_OK), f"{script} must be executable"
        assert path.read_text().startswith("#!/usr/bin/env bash\n")
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_scripts__pass_shellcheck():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    subprocess.run(["shellcheck", "-x", *SCRIPTS], cwd=ROOT, check=True)


def test_ci_run__runs_test_sh():
    lines = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    assert "set -euo pipefail" in lines
    assert lines[-1] == "exec ./test.sh"


FAKE_PYTHON = """#!/bin/sh
# Stands in for .venv/bin/python: records pip calls, runs everything else for real.
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
    echo "$*" >>"$PIP_LOG"
    exit "${PIP_EXIT:-0}"
fi
exec @PYTHON@ "$@"
"""

FAKE_BMS_HUB = """#!/bin/sh
printf '%s\\n' "$@" >"$HUB_ARGS"
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """Copy run.sh and the venv logic into a fake checkout with a fake .venv."""
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    (root / "hub").mkdir()
    shutil.copy2(ROOT / "run.sh", root / "run.sh")
    shutil.copy2(ROOT / "scripts/venv.sh", root / "scripts/venv.sh")
    (root / "pyproject.toml").write_text('[project]\nname = "bms-hub"\n')
    (root / "hub/__init__.py").write_text('__version__ = "0.1.0"\n')
    bin_dir = root / ".venv/bin"
    bin_dir.mkdir(parents=True)
    for name, text in (
        ("python", FAKE_PYTHON.replace("@PYTHON@", shlex.quote(sys.executable))),
        ("bms-hub", FAKE_BMS_HUB),
    ):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return root


def run_in(checkout: Path, command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "PIP_LOG": str(checkout / "pip.log"),
        "HUB_ARGS": str(checkout / "hub-args"),
        **env,
    }
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=60)


def pip_calls(checkout: Path) -> list[str]:
    log = checkout / "pip.log"
    return log.read_text().splitlines() if log.exists() else []


def ensure_venv(checkout: Path, extra: str, **env: str) -> subprocess.CompletedProcess:
    script = (
        f'BMS_ROOT={shlex.quote(str(checkout))}; source "$BMS_ROOT/scripts/venv.sh"; bms_ensure_venv {extra}'
    )
    return run_in(checkout, ["bash", "-c", script], checkout, **env)


def test_run_sh__installs_once_then_passes_arguments(checkout, tmp_path):
    first = run_in(checkout, [str(checkout / "run.sh"), "--port", "8081"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert pip_calls(checkout) == ["-m pip install --disable-pip-version-check --quiet --editable ."]
    assert (checkout / "hub-args").read_text().splitlines() == ["run", "--port", "8081"]

    second = run_in(checkout, [str(checkout / "run.sh")], tmp_path)
    assert second.returncode == 0, second.stderr
    assert len(pip_calls(checkout)) == 1, "nothing changed: no second install"


def test_run_sh__uses_config_yaml_of_the_current_folder(checkout, tmp_path):
    (tmp_path / "config.yaml").write_text("{}\n")
    assert run_in(checkout, [str(checkout / "run.sh"), "--port", "8081"], tmp_path).returncode == 0
    assert (checkout / "hub-args").read_text().splitlines() == [
        "run",
        "--config",
        "config.yaml",
        "--port",
        "8081",
    ]
    for given in (["--config", "other.yaml"], ["--config=other.yaml"]):
        assert run_in(checkout, [str(checkout / "run.sh"), *given], tmp_path).returncode == 0
        assert (checkout / "hub-args").read_text().splitlines() == ["run", *given]


@pytest.mark.parametrize("changed", ["pyproject.toml", "hub/__init__.py"])
def test_venv__reinstalls_when_metadata_changes(checkout, changed):
    assert ensure_venv(checkout, '""').returncode == 0
    assert ensure_venv(checkout, '""').returncode == 0
    assert len(pip_calls(checkout)) == 1
    with (checkout / changed).open("a") as file:
        file.write("# changed\n")
    assert ensure_venv(checkout, '""').returncode == 0
    assert len(pip_calls(checkout)) == 2


def test_venv__test_extra_installs_once_and_also_serves_run(checkout):
    for extra in ("test", "test", '""'):
        assert ensure_venv(checkout, extra).returncode == 0
    assert pip_calls(checkout) == ["-m pip install --disable-pip-version-check --quiet --editable .[test]"]


def test_venv__failed_install_is_retried(checkout):
    failed = ensure_venv(checkout, "test", PIP_EXIT="1")
    assert failed.returncode == 1
    assert "pip install failed" in failed.stderr
    assert ensure_venv(checkout, "test").returncode == 0
    assert len(pip_calls(checkout)) == 2


def test_venv__explains_a_missing_python(checkout):
    shutil.rmtree(checkout / ".venv")
    result = ensure_venv(checkout, '""', PYTHON="python3-that-does-not-exist")
    assert result.returncode == 1
    assert "python3-that-does-not-exist not found" in result.stderr
    assert "python3-venv" in result.stderr


def test_venv__explains_a_too_old_python(checkout, tmp_path):
    shutil.rmtree(checkout / ".venv")
    old_python = tmp_path / "python3.9"
    old_python.write_text('#!/bin/sh\ncase "$*" in *platform*) echo 3.9.2 ;; *) exit 1 ;; esac\n')
    old_python.chmod(0o755)
    result = ensure_venv(checkout, '""', PYTHON=str(old_python))
    assert result.returncode == 1
    assert "needs Python 3.11 or newer" in result.stderr
    assert "3.9.2" in result.stderr


# --- README and .gitignore ----------------------------------------------------------------


def test_readme_quick_start__is_exactly_run_sh_and_test_sh():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```[a-z]*\n(.*?)```", section, flags=re.DOTALL)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert commands == ["./run.sh", "./test.sh"]


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        (".venv/bin/python", True),
        ("data/hub.db", True),
        ("hub/__pycache__/core.cpython-311.pyc", True),
        ("bms_hub.egg-info/PKG-INFO", True),
        ("secrets.yaml", True),
        ("tests/fixtures/secrets.yaml", False),
        ("tests/data/sample.yaml", False),
        ("config.example.yaml", False),
    ],
)
def test_gitignore(path, ignored):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(["git", "check-ignore", "--quiet", "--no-index", path], cwd=ROOT, check=False)
    assert (result.returncode == 0) is ignored
