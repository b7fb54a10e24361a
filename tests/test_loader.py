"""The integration loader, driven through real installed packages.

The packages under tests/fixtures are built and installed with pip into a temporary folder (never
into the shared venv); tests put that folder on sys.path, or on PYTHONPATH for a `python -m hub`
subprocess, exactly as a user's `pip install bms-hub-example` would make them visible.
"""

import asyncio
import importlib
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

import hub
from hub.bus import Bus
from hub.config import MqttConfig, load_config
from hub.health import HealthStatus
from hub.integration import Integration, IntegrationContext
from hub.loader import (
    FoundIntegration,
    IntegrationManager,
    IntegrationState,
    IntegrationStatus,
    check_integration_configs,
    find_integrations,
    validate_integration_configs,
)
from hub.mqtt.access import ConfigUserAccess
from hub.mqtt.broker import EmbeddedBroker
from hub.points import Device, PointRegistry, PointUpdate
from hub.polling import Poller
from hub.supervisor import Supervisor

REPO = Path(hub.__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PACKAGES = ("bms_hub_example", "bms_hub_broken")
MODULES = ("bms_hub_example", "bms_hub_broken", "bms_hub_cases")
# What the fixture packages install, and the integrations bms-hub itself registers (read, not listed:
# every built-in integration that lands would otherwise change this line).
FIXTURE_DOMAINS = (
    "broken",
    "example",
    "incomplete",
    "lifecycle",
    "not_protocol",
    "setup_error",
    "setup_hang",
)
BUILT_IN = [
    e.name
    for e in importlib.metadata.entry_points(group="bms_hub.integrations")
    if e.dist and e.dist.name == "bms-hub"
]
INSTALLED = ", ".join(sorted([*FIXTURE_DOMAINS, *BUILT_IN]))


@pytest.fixture(scope="module")
def site_packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build and install the fixture packages into a private folder, as pip would for a user."""
    root = tmp_path_factory.mktemp("plugins")
    sources = [
        shutil.copytree(FIXTURES / name, root / "src" / name) for name in PACKAGES
    ]  # builds write here
    target = root / "site"
    base = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
    command = [*base, "--target", str(target), *map(str, sources)]
    # The venv's setuptools may need `wheel` for an in-place build; an isolated build fetches what it needs.
    for attempt in ([*command[:-2], "--no-build-isolation", *command[-2:]], command):
        result = subprocess.run(attempt, capture_output=True, text=True, timeout=300, check=False)
        if result.returncode == 0:
            return target
    pytest.fail(f"cannot install the fixture packages:\n{result.stdout}\n{result.stderr}")


@pytest.fixture
def plugins(site_packages: Path) -> Iterator[Path]:
    """Make the installed fixture packages importable in this process; forget them afterwards."""
    sys.path.insert(0, str(site_packages))
    importlib.invalidate_caches()
    try:
        yield site_packages
    finally:
        sys.path.remove(str(site_packages))
        for name in [n for n in sys.modules if n.split(".")[0] in MODULES]:
            del sys.modules[name]
        importlib.invalidate_caches()


@dataclass
class RecordingPoller:
    """Stands in for the poller: records attach/detach into `journal`."""

    attached: dict[str, Integration] = field(default_factory=dict)
    journal: list[str] = field(default_factory=list)

    def attach(self, domain: str, integration: Integration) -> None:
        self.attached[domain] = integration
        self.journal.append(f"attach {domain}")

    def detach(self, domain: str) -> None:
        self.attached.pop(domain, None)
        self.journal.append(f"detach {domain}")


@dataclass
class Host:
    """The part of a hub the manager needs: real registry, bus and supervisor."""

    points: PointRegistry
    supervisor: Supervisor
    poller: RecordingPoller | Poller
    data_dir: Path
    broker: EmbeddedBroker

    def integration_context(self, domain: str) -> IntegrationContext:
        return IntegrationContext(
            domain=domain,
            logger=logging.getLogger(f"integrations.{domain}"),
            points=self.points,
            bus=self.points.bus,
            data_dir=self.data_dir / "integrations" / domain,
            config_dir=self.data_dir,
            _supervisor=self.supervisor,
            _broker=self.broker,
            _report=self.points.update,
        )


@pytest.fixture
async def host(tmp_path: Path) -> Host:
    supervisor = Supervisor()
    broker = EmbeddedBroker(MqttConfig(), ConfigUserAccess((), False))
    yield Host(PointRegistry(Bus()), supervisor, RecordingPoller(), tmp_path / "data", broker)
    await supervisor.stop()


def write_config(folder: Path, integrations: str) -> Path:
    path = folder / "hub.yaml"
    path.write_text("log_level: info\nintegrations:\n" + integrations)
    return path


async def set_up(host: Host, folder: Path, integrations: str, **options: float) -> IntegrationManager:
    """Load a config file with these integrations and set them up the way the hub does."""
    config = load_config(write_config(folder, integrations))
    manager = IntegrationManager(host, **options)
    await manager.setup_all(config.integrations, config.source)
    return manager


def module(name: str) -> ModuleType:
    return sys.modules[name]


def domain_devices(registry: PointRegistry, domain: str) -> list[Device]:
    return [device for device in registry.devices() if device.domain == domain]


def task_names(supervisor: Supervisor) -> set[str]:
    return set(supervisor.health().detail["tasks"])  # type: ignore[arg-type]


# -- finding -------------------------------------------------------------------------------


def test_find_integrations__installed_package_with_its_version(plugins):
    found = find_integrations()
    assert found["example"] == FoundIntegration("example", "bms_hub_example", "bms-hub-example", "1.2.0")
    assert found["broken"] == FoundIntegration("broken", "bms_hub_broken", "bms-hub-broken", "0.3.0")
    assert "bms_hub_broken" not in sys.modules, "finding must not import anything"


def test_find_integrations__nothing_from_the_fixtures_without_their_folder():
    assert not {"example", "broken", "lifecycle"} & set(find_integrations())


# -- setting up ----------------------------------------------------------------------------


async def test_setup_all__loads_the_example_from_config(plugins, host, tmp_path):
    manager = await set_up(host, tmp_path, "  example:\n    name: Lab controller\n    temperature: 19.5\n")

    assert manager.statuses() == [IntegrationStatus("example", IntegrationState.LOADED, "1.2.0", None)]
    integration = manager.get("example")
    assert isinstance(integration, Integration)
    assert host.poller.attached == {"example": integration}
    assert [(d.id, d.name) for d in domain_devices(host.points, "example")] == [
        ("example-1", "Lab controller")
    ]
    points = list(host.points.points("example-1"))
    assert [p.id for p in points] == ["example-1.temperature", "example-1.setpoint"]
    samples = await integration.read(points)
    assert [samples[p.id].value for p in points] == [19.5, 20.0]
    await integration.write(points[1], 23.0, 8)
    assert (await integration.read(points[1:]))["example-1.setpoint"].value == 23.0
    assert manager.health().status == HealthStatus.OK


async def test_setup_all__the_poller_reads_the_example(plugins, tmp_path):
    registry, supervisor = PointRegistry(Bus()), Supervisor()
    broker = EmbeddedBroker(MqttConfig(), ConfigUserAccess((), False))
    host = Host(registry, supervisor, Poller(registry, supervisor, max_start_jitter=0.0), tmp_path, broker)
    values: dict[str, object] = {}
    both = asyncio.Event()

    def updated(event: PointUpdate) -> None:
        values[event.point.id] = event.sample.value
        if len(values) == 2:
            both.set()

    registry.bus.subscribe(PointUpdate, updated)
    try:
        manager = await set_up(host, tmp_path, "  example: {temperature: 19.5}\n")
        async with asyncio.timeout(10):
            await both.wait()
        assert values == {"example-1.temperature": 19.5, "example-1.setpoint": 20.0}
        await manager.stop_all()
        assert not list(registry.devices())
    finally:
        await supervisor.stop()


async def test_setup_all__only_configured_integrations_are_set_up(plugins, host, tmp_path):
    manager = await set_up(host, tmp_path, "  example: {}\n")

    assert [status.domain for status in manager.statuses()] == ["example"]
    assert {"example", "lifecycle", "setup_error"} <= set(find_integrations())
    assert "bms_hub_cases.lifecycle" not in sys.modules, (
        "an integration not in the config is not even imported"
    )
    assert {device.domain for device in host.points.devices()} == {"example"}


@pytest.mark.parametrize(
    ("integration", "state", "error"),
    [
        pytest.param(
            "broken: {}",
            IntegrationState.IMPORT_FAILED,
            "integrations.broken: cannot import bms_hub_broken:"
            " ImportError: cannot import name 'DeviceGroup'",
            id="import_error",
        ),
        pytest.param(
            "nope: {}",
            IntegrationState.NOT_FOUND,
            f"integrations.nope: no integration named 'nope' is installed; installed: {INSTALLED}",
            id="not_installed",
        ),
        pytest.param(
            "incomplete:",
            IntegrationState.INVALID,
            "integrations.incomplete: bms_hub_cases.incomplete does not define CONFIG_SCHEMA, async_setup",
            id="incomplete_module",
        ),
        pytest.param(
            "not_protocol: {}",
            IntegrationState.INVALID,
            "async_setup returned HalfDone is not an Integration"
            " (missing batch_size, discover, health, read, write)",
            id="not_an_integration",
        ),
        pytest.param(
            "setup_error: {address: 10.1.2.3}",
            IntegrationState.SETUP_FAILED,
            "async_setup raised ConnectionError: cannot reach the controller at 10.1.2.3",
            id="setup_raises",
        ),
        pytest.param(
            "setup_hang: {}",
            IntegrationState.SETUP_TIMEOUT,
            "setup did not finish within 0.2 s",
            id="setup_hangs",
        ),
    ],
)
async def test_setup_all__invalid(plugins, host, tmp_path, caplog, integration, state, error):
    manager = await set_up(host, tmp_path, f"  {integration}\n  example: {{}}\n", setup_timeout=0.2)

    failed, example = manager.statuses()
    assert failed.state == state
    assert error in (failed.error or "")
    assert example.state == IntegrationState.LOADED, "one failure must not stop the others"
    assert manager.get(failed.domain) is None
    assert failed.domain not in host.poller.attached
    assert not domain_devices(host.points, failed.domain)
    health = manager.health()
    assert health.status == HealthStatus.DEGRADED
    assert health.detail["integrations"][failed.domain]["state"] == str(state)  # type: ignore[index]
    errors = [r for r in caplog.records if r.name == "hub.loader" and r.levelno == logging.ERROR]
    assert len(errors) == 1, "a failure is logged once"
    assert failed.domain in errors[0].getMessage()


async def test_setup_all__bad_config_points_at_file_and_line(plugins, host, tmp_path):
    manager = await set_up(
        host, tmp_path, "  example:\n    name: Lab\n    poll_interval: -1\n    temprature: warm\n"
    )

    (status,) = manager.statuses()
    path = tmp_path / "hub.yaml"
    assert status.state == IntegrationState.CONFIG_INVALID
    assert status.error == (
        f"{path}:5: integrations.example.poll_interval: value must be at least 0.1; "
        f"{path}:6: integrations.example.temprature: unknown key (did you mean 'temperature'?)"
    )
    assert manager.get("example") is None
    assert not list(host.points.devices())


async def test_setup_all__failed_setup_is_undone(plugins, host, tmp_path):
    manager = await set_up(host, tmp_path, "  setup_error: {}\n")

    assert manager.statuses()[0].state == IntegrationState.SETUP_FAILED
    assert module("bms_hub_cases.setup_error").EVENTS == ["listener stopped", "cleanup"]
    assert "setup_error.listener" not in task_names(host.supervisor)
    assert not list(host.points.devices())
    assert not list(host.points.points())


async def test_setup_all__timed_out_setup_is_cancelled_and_undone(plugins, host, tmp_path, caplog):
    manager = await set_up(host, tmp_path, "  setup_hang: {}\n", setup_timeout=0.2, warn_after=0.05)

    assert manager.statuses()[0].state == IntegrationState.SETUP_TIMEOUT
    assert module("bms_hub_cases.setup_hang").EVENTS == ["setup cancelled", "cleanup"]
    assert not list(host.points.devices())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "setup of integration setup_hang is taking over 0.05 s" in warnings


# -- unloading -----------------------------------------------------------------------------


async def test_unload__undoes_everything_in_reverse(plugins, host, tmp_path):
    manager = await set_up(host, tmp_path, "  lifecycle:\n  example: {}\n")
    lifecycle = manager.get("lifecycle")
    assert lifecycle is not None
    async with asyncio.timeout(5):
        await lifecycle.running.wait()  # type: ignore[attr-defined]
    assert "lifecycle.listener" in task_names(host.supervisor)
    assert [d.id for d in domain_devices(host.points, "lifecycle")] == ["lifecycle-1"]
    events = module("bms_hub_cases.lifecycle").EVENTS
    host.poller.journal = events  # one timeline for the poller and the integration

    await manager.unload("lifecycle")

    assert events == ["setup", "start", "detach lifecycle", "stop", "task stopped", "cleanup 2", "cleanup 1"]
    assert "lifecycle.listener" not in task_names(host.supervisor)
    assert not domain_devices(host.points, "lifecycle")
    assert "lifecycle-1.x" not in {p.id for p in host.points.points()}
    assert manager.get("lifecycle") is None
    assert manager.statuses()[0] == IntegrationStatus("lifecycle", IntegrationState.STOPPED, "0.3.0", None)
    assert [d.id for d in domain_devices(host.points, "example")] == ["example-1"], "the others stay"
    assert manager.health().status == HealthStatus.OK

    await manager.stop_all()
    assert not list(host.points.devices())
    assert [s.state for s in manager.statuses()] == [IntegrationState.STOPPED] * 2
    assert host.poller.attached == {}


# -- checking without setting up ------------------------------------------------------------


def test_validate_integration_configs__valid(plugins, tmp_path):
    config = load_config(write_config(tmp_path, "  example: {temperature: 18}\n  lifecycle:\n"))
    assert validate_integration_configs(config.integrations, config.source) == []
    assert "bms_hub_cases.lifecycle" in sys.modules, "checking imports the module"


def test_check_integration_configs__invalid(plugins, tmp_path):
    path = write_config(tmp_path, "  example:\n    temperature: warm\n  nope: {}\n  broken: {}\n")
    config = load_config(path)
    checks = check_integration_configs(config.integrations, path)
    assert [(c.domain, c.state) for c in checks] == [
        ("example", IntegrationState.CONFIG_INVALID),
        ("nope", IntegrationState.NOT_FOUND),
        ("broken", IntegrationState.IMPORT_FAILED),
    ]
    assert [str(issue).split(": ")[:2] for check in checks for issue in check.issues] == [
        [f"{path}:4", "integrations.example.temperature"],
        [f"{path}:5", "integrations.nope"],
        [f"{path}:6", "integrations.broken"],
    ]
    assert str(checks[0].issues[0]).endswith("expected float, got 'warm'")


# -- the command line, as a user runs it -----------------------------------------------------


def run_hub(*args: str, plugins: Path | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (plugins, REPO) if p)
    command = [sys.executable, "-m", "hub", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_cli_integrations__lists_installed_packages(site_packages, tmp_path):
    result = run_hub("integrations", plugins=site_packages, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["DOMAIN", "DISTRIBUTION", "VERSION", "MODULE"]
    assert ["example", "bms-hub-example", "1.2.0", "bms_hub_example"] in rows
    assert ["setup_hang", "bms-hub-broken", "0.3.0", "bms_hub_cases.setup_hang"] in rows


def test_cli_integrations__config_shows_each_state(site_packages, tmp_path):
    path = write_config(tmp_path, "  example: {}\n  broken: {}\n  nope: {}\n")
    result = run_hub("integrations", "--config", str(path), plugins=site_packages, cwd=tmp_path)
    assert result.returncode == 2
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()}
    assert rows["example"] == ["bms-hub-example", "1.2.0", "bms_hub_example", "ok"]
    assert rows["broken"] == ["bms-hub-broken", "0.3.0", "bms_hub_broken", "import_failed"]
    assert rows["nope"] == ["-", "-", "-", "not_found"]
    assert rows["lifecycle"][-2:] == ["not", "configured"]
    assert f"{path}:4: integrations.broken: cannot import bms_hub_broken" in result.stderr


def test_cli_check_config__valid(site_packages, tmp_path):
    path = write_config(tmp_path, "  example:\n    poll_interval: 2\n")
    result = run_hub("check-config", str(path), plugins=site_packages, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "configuration is valid" in result.stdout


def test_cli_check_config__invalid_integration(site_packages, tmp_path):
    path = write_config(tmp_path, "  example:\n    poll_interval: 0\n  nope:\n")
    result = run_hub("check-config", str(path), plugins=site_packages, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{path}:4: integrations.example.poll_interval: value must be at least 0.1",
        f"{path}:5: integrations.nope: no integration named 'nope' is installed; installed: {INSTALLED}",
    ]


def test_cli_check_config__integration_missing_without_the_package(tmp_path):
    path = write_config(tmp_path, "  example: {}\n")
    result = run_hub("check-config", str(path), plugins=None, cwd=tmp_path)
    assert result.returncode == 2
    assert f"{path}:3: integrations.example: no integration named 'example' is installed" in result.stderr


def test_cli_domain_command__runs_the_packages_own_command(site_packages, tmp_path):
    result = run_hub("example", "--name", "Lab", plugins=site_packages, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "example-1: Lab, points temperature and setpoint\n"


def test_cli_simulate__an_integration_without_a_simulator_is_refused(site_packages, tmp_path):
    result = run_hub("simulate", "example", plugins=site_packages, cwd=tmp_path)
    assert result.returncode == 2
    refused, _, available = result.stderr.strip().partition("; available: ")
    assert refused == "bms-hub simulate: no simulator for 'example'"
    assert "simulator" in available.split(", ")
    assert "example" not in available.split(", ")


def test_cli_simulate__runs_the_simulator_headless(tmp_path):
    result = run_hub("simulate", "simulator", "demo", "--minutes", "0", plugins=None, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first = json.loads(result.stdout.splitlines()[0])
    assert (first["t"], first["point"], first["quality"]) == (0, "ahu-1.outdoor_air_temp", "good")
