"""The command line, run as real processes: `python -m hub ...` as a user or a service manager would."""

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import aiomqtt
import pytest

import hub

REPO = Path(hub.__file__).resolve().parent.parent
LISTENING = re.compile(r"listening on http://([\d.]+):(\d+)")
ISSUE_LINE = re.compile(r"^(?P<file>\S+\.yaml):(?P<line>\d+): (?P<key>[\w.\[\]]+): .+$")
STATUS_FILTER = "iot/global/+/+/+/status/update"


def hub_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(folder: Path, *, mqtt_port: int | None = None, http_port: int = 8080) -> Path:
    tcp = f"  tcp: {{enabled: true, host: 127.0.0.1, port: {mqtt_port}}}\n" if mqtt_port else ""
    path = folder / "hub.yaml"
    path.write_text(
        "log_level: info\n"
        f"http: {{host: 127.0.0.1, port: {http_port}}}\n"
        "mqtt:\n"
        "  heartbeat_interval: 3600\n"
        f"{tcp}"
        "  users:\n"
        "    - username: admin\n"
        "      password: admin-pw\n"
        '      publish: ["#"]\n'
        '      subscribe: ["#"]\n'
    )
    return path


async def run_to_end(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run `python -m hub ARGS` to completion (bounded); return exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", *args, cwd=cwd, env=hub_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with asyncio.timeout(30):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode, out.decode(), err.decode()  # type: ignore[return-value]


class HubProcess:
    """A running `python -m hub run`, its stderr collected line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._new_line = asyncio.Event()
        self._reader = asyncio.create_task(self._read_stderr())

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.lines.append(line.decode().rstrip("\n"))
            self._new_line.set()
        self._new_line.set()

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_line(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """The first stderr line matching `pattern`; fail if the process ends or 30 s pass first."""
        async with asyncio.timeout(30):
            while True:
                for line in self.lines:
                    if match := pattern.search(line):
                        return match
                assert not self._reader.done(), (
                    f"hub ended before logging {pattern.pattern!r}:\n{self.stderr}"
                )
                self._new_line.clear()
                await self._new_line.wait()

    async def http_port(self) -> int:
        return int((await self.wait_for_line(LISTENING)).group(2))

    async def terminate(self) -> int:
        """SIGTERM, then the exit code; the hub must be gone within 5 s."""
        self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(5):
            code = await self.process.wait()
        await self.finish()
        return code

    async def finish(self) -> None:
        async with asyncio.timeout(5):
            await self._reader


@pytest.fixture
async def start_process() -> AsyncIterator:
    """Start `python -m hub run ...`; any process still running at the end of the test is killed."""
    started: list[HubProcess] = []

    async def start(*args: str, cwd: Path) -> HubProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub", "run", *args, cwd=cwd, env=hub_env(),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        started.append(HubProcess(process))
        return started[-1]

    yield start
    for running in started:
        if running.process.returncode is None:
            running.process.kill()
            await running.process.wait()
        running._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running._reader


async def get_health(port: int) -> dict[str, object]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/api/health") as response,
    ):
        return await response.json()


def assert_no_traceback(text: str) -> None:
    assert "Traceback" not in text, text


async def test_version(tmp_path):
    code, out, _ = await run_to_end("--version", cwd=tmp_path)
    assert code == 0
    assert out.strip() == f"bms-hub {hub.__version__}"


async def test_check_config_valid(tmp_path):
    path = write_config(tmp_path, mqtt_port=1883)
    code, out, err = await run_to_end("check-config", str(path), cwd=tmp_path)
    assert code == 0, err
    assert "valid" in out
    assert err == ""


INVALID = """\
log_level: loud
http:
  port: 99999
mqtt:
  max_packet_size: 10
  bogus: 1
"""


async def test_check_config_invalid_lists_every_problem(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(INVALID)
    code, _, err = await run_to_end("check-config", str(path), cwd=tmp_path)
    assert code == 2
    assert_no_traceback(err)
    issues = [ISSUE_LINE.match(line) for line in err.splitlines()]
    assert all(issues), err
    assert {(Path(m["file"]).name, int(m["line"]), m["key"]) for m in issues} == {  # type: ignore[index]
        ("bad.yaml", 1, "log_level"),
        ("bad.yaml", 3, "http.port"),
        ("bad.yaml", 5, "mqtt.max_packet_size"),
        ("bad.yaml", 6, "mqtt.bogus"),
    }


async def test_run_with_invalid_config_exits_2(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(INVALID)
    code, _, err = await run_to_end("run", "--config", str(path), "--port", "0", cwd=tmp_path)
    assert code == 2
    assert_no_traceback(err)
    assert "bad.yaml:1: log_level:" in err
    assert not (tmp_path / "data").exists()  # nothing started


async def test_sigterm_announces_offline_and_exits_cleanly(tmp_path, start_process):
    mqtt_port = free_port()
    config = write_config(tmp_path, mqtt_port=mqtt_port)
    data_dir = tmp_path / "state"
    running = await start_process(
        "--config", str(config), "--port", "0", "--data-dir", str(data_dir), cwd=tmp_path
    )
    await running.http_port()

    statuses: list[tuple[str, dict[str, object]]] = []
    first = asyncio.Event()

    async def collect(client: aiomqtt.Client) -> None:
        with contextlib.suppress(aiomqtt.MqttError):  # raised when the hub closes the connection
            async for message in client.messages:
                statuses.append((message.topic.value, json.loads(message.payload)))  # type: ignore[arg-type]
                first.set()

    client = aiomqtt.Client(
        "127.0.0.1", mqtt_port, username="admin", password="admin-pw", identifier="watcher"
    )
    await client.__aenter__()
    try:
        await client.subscribe(STATUS_FILTER, qos=1)
        collector = asyncio.create_task(collect(client))
        async with asyncio.timeout(10):
            await first.wait()  # the retained "online" arrived
        assert await running.terminate() == 0
        async with asyncio.timeout(5):
            await collector  # ends when the hub closes the connection
    finally:
        with contextlib.suppress(aiomqtt.MqttError):  # the hub has gone: leaving may fail
            await client.__aexit__(None, None, None)

    assert_no_traceback(running.stderr)
    states = [status["status"] for _, status in statuses]
    assert states[0] == "online"
    assert states[-1] == "offline"
    stored = json.loads((data_dir / "identity.json").read_text())
    prefix = f"iot/global/{stored['org_id']}/{stored['site_id']}/{stored['iot_device_id']}/"
    assert {topic for topic, _ in statuses} == {prefix + "status/update"}


async def test_identity_is_kept_across_restarts(tmp_path, start_process):
    config = write_config(tmp_path)
    data_dir = tmp_path / "state"
    prefixes = []
    for _ in range(2):
        running = await start_process(
            "--config", str(config), "--port", "0", "--data-dir", str(data_dir), cwd=tmp_path
        )
        prefixes.append((await get_health(await running.http_port()))["identity"])
        assert await running.terminate() == 0
    assert prefixes[0] == prefixes[1]
    stored = json.loads((data_dir / "identity.json").read_text())
    assert prefixes[0] == f"iot/global/{stored['org_id']}/{stored['site_id']}/{stored['iot_device_id']}/"


async def test_http_port_in_use_exits_1_with_a_clear_message(tmp_path):
    config = write_config(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = await run_to_end(
            "run",
            "--config",
            str(config),
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "d"),
            cwd=tmp_path,
        )
    assert code == 1
    assert_no_traceback(err)
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "in use" in err


async def test_mqtt_port_in_use_exits_1_with_a_clear_message(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path, mqtt_port=port)
        code, _, err = await run_to_end(
            "run", "--config", str(config), "--port", "0", "--data-dir", str(tmp_path / "d"), cwd=tmp_path
        )
    assert code == 1
    assert_no_traceback(err)
    assert f"MQTT TCP listener cannot bind 127.0.0.1:{port}" in err


async def test_run_without_config_runs_the_demo_site_with_a_kept_admin_password(tmp_path, start_process):
    running = await start_process("--port", "0", cwd=tmp_path)
    port = await running.http_port()
    data = tmp_path / "data"
    assert (data / "identity.json").is_file()
    password_file = data / "admin-password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()

    health = await get_health(port)
    assert health["components"]["broker"]["tcp_listener"] is None  # type: ignore[index]
    assert health["components"]["integrations"]["integrations"]["simulator"]["state"] == "loaded"  # type: ignore[index]
    url = f"http://127.0.0.1:{port}/api/points/read"
    body = {"point_ids": ["ahu-1.supply_air_temp"]}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=body) as refused:
            assert refused.status == 401
        login = {"username": "admin", "password": password}
        async with session.post(f"http://127.0.0.1:{port}/api/auth/login", json=login) as logged_in:
            assert logged_in.status == 200
            cookie = logged_in.cookies["bms_hub_session"].value
            headers = {
                "Cookie": f"bms_hub_session={cookie}",
                "X-CSRF-Token": (await logged_in.json())["csrf_token"],
            }
        async with session.post(url, json=body, headers=headers) as response:
            assert response.status == 200
            sample = (await response.json())["samples"]["ahu-1.supply_air_temp"]
    assert sample["quality"] == "good"
    assert 5 < sample["value"] < 40

    assert await running.terminate() == 0
    assert f"password in {Path('data') / 'admin-password'}" in running.stderr
    assert password not in running.stderr
    assert_no_traceback(running.stderr)
    again = await start_process("--port", "0", cwd=tmp_path)
    await again.http_port()
    assert await again.terminate() == 0
    assert password_file.read_text().strip() == password
