"""Tests for hub/config.py and hub/yaml_loader.py, through load_config() as the CLI uses it.

Each test writes its files into a temporary folder and loads "site.yaml" from there,
so issues read exactly as a user sees them: `site.yaml:12: mqtt.tcp.port: ...`.
"""

import dataclasses
import shutil
import textwrap
from pathlib import Path

import pytest

from hub.config import (
    SECTIONS,
    ConfigError,
    ConfigIssue,
    HttpConfig,
    HubConfig,
    IdentityConfig,
    LogLevel,
    MqttConfig,
    MqttUser,
    PollingConfig,
    TcpListenerConfig,
    default_config,
    load_config,
)
from hub.yaml_loader import MarkedDict, MarkedList, load_yaml

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.yaml"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(files: dict[str, str]) -> None:
    for name, text in files.items():
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def issues_of(files: dict[str, str]) -> list[str]:
    write(files)
    with pytest.raises(ConfigError) as info:
        load_config(Path("site.yaml"))
    return [str(issue) for issue in info.value.issues]


def assert_issues(got: list[str], expected: list[str]) -> None:
    """Each issue must start with the expected `file:line: key: message` prefix, in order."""
    assert [issue[: len(prefix)] for issue, prefix in zip(got, expected, strict=False)] == expected, got
    assert len(got) == len(expected), got


FULL = """
data_dir: /srv/bms
log_level: warning
http:
  host: 127.0.0.1
  port: 8123
identity: {org_id: acme, site_id: hq-1, iot_device_id: hub_01}
mqtt:
  allow_anonymous: true
  max_packet_size: 65536
  connect_timeout: 2.5
  client_queue_limit: 50
  qos1_backlog_limit: 20
  heartbeat_interval: 5
  tcp: {enabled: true, host: 0.0.0.0, port: 1884}
  users:
    - username: dashboard
      password: pw1
      publish: ["iot/global/+/+/+/command/#"]
      subscribe: ["iot/global/#", "+"]
      deny: ["iot/global/acme/secret/#"]
    - username: bridge
      password: pw2
integrations:
  bacnet: {interface: eth0}
  simulator:
"""


def test_load_config__valid_full_file(in_tmp: Path) -> None:
    write({"site.yaml": FULL})
    config = load_config(Path("site.yaml"))
    assert config == HubConfig(
        data_dir=Path("/srv/bms"),
        log_level=LogLevel.WARNING,
        http=HttpConfig(host="127.0.0.1", port=8123),
        identity=IdentityConfig(org_id="acme", site_id="hq-1", iot_device_id="hub_01"),
        mqtt=MqttConfig(
            users=(
                MqttUser(
                    username="dashboard",
                    password="pw1",
                    publish=("iot/global/+/+/+/command/#",),
                    subscribe=("iot/global/#", "+"),
                    deny=("iot/global/acme/secret/#",),
                ),
                MqttUser(username="bridge", password="pw2"),
            ),
            allow_anonymous=True,
            tcp=TcpListenerConfig(enabled=True, host="0.0.0.0", port=1884),
            max_packet_size=65536,
            connect_timeout=2.5,
            client_queue_limit=50,
            qos1_backlog_limit=20,
            heartbeat_interval=5.0,
        ),
        integrations={"bacnet": {"interface": "eth0"}, "simulator": None},
        source=in_tmp / "site.yaml",
    )
    assert isinstance(config.mqtt.heartbeat_interval, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.log_level = LogLevel.DEBUG  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.integrations["modbus"] = {}  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", HubConfig()),
        ("# only a comment\n", HubConfig()),
        ("http:\nmqtt:\nidentity:\nintegrations:\n", HubConfig()),
        ("log_level: DEBUG", HubConfig(log_level=LogLevel.DEBUG)),
        ("http: {port: 1}", HubConfig(http=HttpConfig(port=1))),
        ("http: {port: 65535}", HubConfig(http=HttpConfig(port=65535))),
        ("mqtt: {tcp: {enabled: true}}", HubConfig(mqtt=MqttConfig(tcp=TcpListenerConfig(enabled=True)))),
        ("mqtt: {connect_timeout: 1}", HubConfig(mqtt=MqttConfig(connect_timeout=1.0))),
        ("identity: {site_id: A-b_9}", HubConfig(identity=IdentityConfig(site_id="A-b_9"))),
        ("identity: {timezone: Europe/Paris}", HubConfig(identity=IdentityConfig(timezone="Europe/Paris"))),
        ("polling: {stale_factor: 2, max_backoff: 60}", HubConfig(polling=PollingConfig(2.0, 60.0))),
        ("identity: {org_id: " + "x" * 64 + "}", HubConfig(identity=IdentityConfig(org_id="x" * 64))),
        (
            "mqtt: {users: [{username: u, password: p, publish: 'a/#'}]}",
            HubConfig(mqtt=MqttConfig(users=(MqttUser("u", "p", publish=("a/#",)),))),
        ),
        (
            "mqtt: {users: [{username: u, password: p, subscribe: ['#', '+/+', a/+/b, $SYS/#]}]}",
            HubConfig(
                mqtt=MqttConfig(users=(MqttUser("u", "p", subscribe=("#", "+/+", "a/+/b", "$SYS/#")),))
            ),
        ),
        (
            # YAML anchors and merge keys work, and an explicit key overrides a merged one.
            "http: &b {host: 1.2.3.4, port: 81}\nmqtt:\n  tcp:\n    <<: *b\n    port: 1999\n",
            HubConfig(
                http=HttpConfig(host="1.2.3.4", port=81),
                mqtt=MqttConfig(tcp=TcpListenerConfig(host="1.2.3.4", port=1999)),
            ),
        ),
    ],
)
def test_load_config__valid(in_tmp: Path, text: str, expected: HubConfig) -> None:
    write({"site.yaml": text})
    config = load_config(Path("site.yaml"))
    assert config == dataclasses.replace(expected, data_dir=in_tmp / "data", source=in_tmp / "site.yaml")


def test_default_config__valid() -> None:
    config = default_config()
    assert config.data_dir == Path("data")
    assert config.http.port == 8080
    assert config.mqtt.users == ()
    assert config.mqtt.allow_anonymous is False
    assert config.mqtt.tcp.enabled is False
    assert config.source is None


@pytest.mark.parametrize(
    ("data_dir", "expected"),
    [
        (None, "conf/data"),
        ("./var", "conf/var"),
        ("var/db", "conf/var/db"),
        ("../shared", "shared"),
        ("/abs/path", "/abs/path"),
    ],
)
def test_load_config__valid_data_dir_is_relative_to_the_config_file(
    in_tmp: Path, data_dir: str | None, expected: str
) -> None:
    write({"conf/site.yaml": f"data_dir: {data_dir}\n" if data_dir else "log_level: info\n"})
    config = load_config(Path("conf/site.yaml"))  # the working directory is in_tmp, not conf/
    assert config.data_dir == (in_tmp / expected).resolve()
    assert config.source == in_tmp / "conf" / "site.yaml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bogus: 1", ["site.yaml:1: bogus: unknown key (expected one of: data_dir, log_level, http,"]),
        ("http:\n  prot: 80", ["site.yaml:2: http.prot: unknown key (did you mean 'port'?)"]),
        ("mqtt:\n  tcp:\n    enabled: true\n    colour: red", ["site.yaml:4: mqtt.tcp.colour: unknown key"]),
        ("http:\n  port: abc", ["site.yaml:2: http.port: expected int between 1 and 65535, got 'abc'"]),
        ("http:\n  port: 0", ["site.yaml:2: http.port: expected int between 1 and 65535, got 0"]),
        ("http:\n  port: 65536", ["site.yaml:2: http.port: expected int between 1 and 65535, got 65536"]),
        ("http:\n  port: true", ["site.yaml:2: http.port: expected int between 1 and 65535, got true"]),
        ("http:\n  port: 80.5", ["site.yaml:2: http.port: expected int between 1 and 65535, got 80.5"]),
        ("http:\n  port:", ["site.yaml:2: http.port: expected int between 1 and 65535, got nothing"]),
        ("http: 5", ["site.yaml:1: http: expected a mapping, got 5"]),
        (
            "polling:\n  stale_factor: 0.5",
            ["site.yaml:2: polling.stale_factor: expected a number between 1 and 100, got 0.5"],
        ),
        (
            "polling:\n  read_timeout: yes",
            ["site.yaml:2: polling.read_timeout: expected a number of seconds between 0.1 and 600, got true"],
        ),
        ("http:\n  - port: 5", ["site.yaml:2: http: expected a mapping, got a list"]),
        ("- a\n- b", ["site.yaml:1: expected a mapping, got a list"]),
        ("http:\n  host: ''", ["site.yaml:2: http.host: expected a non-empty string, got ''"]),
        (
            "log_level: loud",
            ["site.yaml:1: log_level: expected one of debug, info, warning, error, got 'loud'"],
        ),
        ("data_dir: 5", ["site.yaml:1: data_dir: expected a non-empty string, got 5"]),
        (
            "mqtt:\n  allow_anonymous: 'no'",
            ["site.yaml:2: mqtt.allow_anonymous: expected true or false, got 'no'"],
        ),
        (
            "mqtt:\n  max_packet_size: 10",
            ["site.yaml:2: mqtt.max_packet_size: expected int between 1024 and"],
        ),
        ("mqtt:\n  connect_timeout: 0", ["site.yaml:2: mqtt.connect_timeout: expected a number of seconds"]),
        (
            "mqtt:\n  client_queue_limit: -1",
            ["site.yaml:2: mqtt.client_queue_limit: expected int >= 1, got -1"],
        ),
        ("mqtt:\n  users: 5", ["site.yaml:2: mqtt.users: expected a mapping, got 5"]),
        ("identity:\n  site_id: a/b", ["site.yaml:2: identity.site_id: expected 1 to 64 letters, digits,"]),
        ("identity:\n  org_id: 'a+'", ["site.yaml:2: identity.org_id: expected 1 to 64 letters"]),
        ("identity:\n  org_id: " + "x" * 65, ["site.yaml:2: identity.org_id: expected 1 to 64 letters"]),
        ("identity:\n  iot_device_id: 12", ["site.yaml:2: identity.iot_device_id: expected 1 to 64 letters"]),
        (
            "identity:\n  timezone: Mars/Olympus",
            ["site.yaml:2: identity.timezone: expected an IANA time zone such as Europe/London or UTC, got"],
        ),
        (
            "identity:\n  timezone: ../../etc/passwd",
            ["site.yaml:2: identity.timezone: expected an IANA time zone"],
        ),
        (
            "integrations:\n  Bad-Name: {}",
            ["site.yaml:2: integrations.Bad-Name: unknown key: an integration"],
        ),
        ("integrations: [bacnet]", ["site.yaml:1: integrations: expected a mapping of integration domain"]),
        (
            "log_level: info\nhttp: {port: 1}\nlog_level: debug",
            ["site.yaml:3: log_level: duplicate key (first defined at line 1)"],
        ),
    ],
)
def test_load_config__invalid(text: str, expected: list[str]) -> None:
    assert_issues(issues_of({"site.yaml": text}), expected)


USERS = """
mqtt:
  users:
    - username: a
      password: p
      publish: [{filter!r}]
"""


@pytest.mark.parametrize(
    ("topic_filter", "problem"),
    [
        ("a/#/b", "expected an MQTT topic filter ('#' must be a whole level and the last one), got 'a/#/b'"),
        ("a/b#", "expected an MQTT topic filter ('#' must be a whole level and the last one), got 'a/b#'"),
        ("a/b+/c", "expected an MQTT topic filter ('+' must be a whole level), got 'a/b+/c'"),
        ("", "expected an MQTT topic filter (empty topic filter), got ''"),
    ],
)
def test_load_config__invalid_topic_filter(topic_filter: str, problem: str) -> None:
    got = issues_of({"site.yaml": USERS.format(filter=topic_filter)})
    assert got == [f"site.yaml:5: mqtt.users[0].publish[0]: {problem}"]


def test_load_config__invalid_topic_filters_in_every_list() -> None:
    text = """
    mqtt:
      users:
        - username: a
          password: p
          publish: [ok/#, "bad/#/x"]
          subscribe:
            - fine/+
            - "x+"
          deny: [5]
    """
    assert_issues(
        issues_of({"site.yaml": text}),
        [
            "site.yaml:5: mqtt.users[0].publish[1]: expected an MQTT topic filter",
            "site.yaml:8: mqtt.users[0].subscribe[1]: expected an MQTT topic filter ('+' must",
            "site.yaml:9: mqtt.users[0].deny[0]: expected an MQTT topic filter (a string such as",
        ],
    )


def test_load_config__invalid_users() -> None:
    text = """
    mqtt:
      users:
        - username: a
          password: p
        - username: b
        - username: a
          password: q
        - password: r
        - username: a
          password: s
          pasword: typo
    """
    assert_issues(
        issues_of({"site.yaml": text}),
        [
            "site.yaml:5: mqtt.users[1].password: required key missing",
            "site.yaml:6: mqtt.users[2].username: duplicate username 'a', already used by users[0]",
            "site.yaml:8: mqtt.users[3].username: required key missing",
            "site.yaml:9: mqtt.users[4].username: duplicate username 'a', already used by users[0]",
            "site.yaml:11: mqtt.users[4].pasword: unknown key (did you mean 'password'?)",
        ],
    )


def test_load_config__invalid_several_errors_at_once() -> None:
    text = """
    data_dir: ./data
    log_level: verbose
    http:
      host: 0.0.0.0
      port: abc
    mqtt:
      tcp:
        enabled: maybe
        port: 99999
      users:
        - username: x
          password: y
          subscribe: ["a/#/b"]
      heartbeat_interval: soon
    identity:
      site_id: "hq/1"
    extra: true
    """
    assert_issues(
        issues_of({"site.yaml": text}),
        [
            "site.yaml:2: log_level: expected one of debug, info, warning, error, got 'verbose'",
            "site.yaml:5: http.port: expected int between 1 and 65535, got 'abc'",
            "site.yaml:8: mqtt.tcp.enabled: expected true or false, got 'maybe'",
            "site.yaml:9: mqtt.tcp.port: expected int between 1 and 65535, got 99999",
            "site.yaml:13: mqtt.users[0].subscribe[0]: expected an MQTT topic filter",
            "site.yaml:14: mqtt.heartbeat_interval: expected a number of seconds between 1 and 86400",
            "site.yaml:16: identity.site_id: expected 1 to 64 letters, digits, '_' or '-', got 'hq/1'",
            "site.yaml:17: extra: unknown key",
        ],
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb 2\nc: 3\n", "site.yaml:2: invalid YAML: could not find expected ':'"),
        ("http:\n  port: 1\n host: x\n", "site.yaml:3: invalid YAML: expected <block end>"),
        (
            "http:\n\tport: 1\n",
            "site.yaml:2: invalid YAML: found character '\\t' that cannot start any token",
        ),
        ('log_level: info\nhttp: "abc\n', "site.yaml:2: invalid YAML: found unexpected end of stream"),
        ("log_level: info\nhttp: [1, 2\nmqtt: {}\n", "site.yaml:3: invalid YAML: expected ',' or ']'"),
        ("http: *nothing\n", "site.yaml:1: invalid YAML: found undefined alias"),
        ("? [a, b]\n: 1\n", "site.yaml:1: invalid YAML: a mapping key must be a plain value"),
        ('log_level: info\nhttp: "\x01"\n', "site.yaml:2: invalid YAML: unacceptable character #x0001"),
    ],
)
def test_load_config__invalid_yaml_syntax(text: str, expected: str) -> None:
    assert_issues(issues_of({"site.yaml": text}), [expected])


def test_load_config__invalid_missing_file() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(Path("nowhere.yaml"))
    assert [str(issue) for issue in info.value.issues] == [
        "nowhere.yaml: cannot read file: No such file or directory"
    ]
    assert info.value.issues[0].line is None


# --- !secret ---


SECRET_USER = """
mqtt:
  users:
    - username: dashboard
      password: !secret dashboard_password
"""


def test_secret__valid(in_tmp: Path) -> None:
    write({"site.yaml": SECRET_USER, "secrets.yaml": "dashboard_password: hunter2\n"})
    config = load_config(Path("site.yaml"))
    assert config.mqtt.users[0].password == "hunter2"
    assert "hunter2" not in repr(config)


def test_secret__valid_beside_the_included_file_then_beside_the_main_file() -> None:
    write(
        {
            "site.yaml": "mqtt: !include mqtt/broker.yaml\nhttp: {host: !secret bind}\n",
            "mqtt/broker.yaml": "users:\n  - {username: !secret user, password: !secret pw}\n",
            "mqtt/secrets.yaml": "pw: local\n",
            "secrets.yaml": "user: alice\npw: global\nbind: 10.0.0.1\n",
        }
    )
    config = load_config(Path("site.yaml"))
    assert config.mqtt.users == (MqttUser("alice", "local"),)
    assert config.http.host == "10.0.0.1"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"site.yaml": SECRET_USER},
            "site.yaml:4: mqtt.users[0].password: !secret dashboard_password: no secrets file",
        ),
        (
            {"site.yaml": SECRET_USER, "secrets.yaml": "other: x\n"},
            "site.yaml:4: mqtt.users[0].password: !secret dashboard_password: no secret named "
            "'dashboard_password' in secrets.yaml",
        ),
        (
            {"site.yaml": SECRET_USER, "secrets.yaml": "a: 1\nb\n"},
            "secrets.yaml:2: mqtt.users[0].password: invalid YAML: could not find expected ':'",
        ),
        (
            {"site.yaml": SECRET_USER, "secrets.yaml": "other: x\ndashboard_password: *hunter2\n"},
            "secrets.yaml:2: mqtt.users[0].password: invalid YAML: found undefined alias '...'",
        ),
        (
            {"site.yaml": SECRET_USER, "secrets.yaml": "dashboard_password: !secret other\n"},
            "secrets.yaml:1: mqtt.users[0].password: !secret cannot be used inside secrets.yaml",
        ),
        (
            {"site.yaml": SECRET_USER, "secrets.yaml": "- a\n"},
            "secrets.yaml:1: mqtt.users[0].password: secrets.yaml must be a mapping of name: value",
        ),
        (
            {"site.yaml": "http:\n  host: !secret\n"},
            "site.yaml:2: http.host: !secret needs a secret name",
        ),
    ],
)
def test_secret__invalid(files: dict[str, str], expected: str) -> None:
    assert_issues(issues_of(files), [expected])


def test_secret__invalid_broken_secrets_file_reported_once() -> None:
    text = "http:\n  host: !secret a\nmqtt:\n  users:\n    - {username: !secret b, password: !secret c}\n"
    got = issues_of({"site.yaml": text, "secrets.yaml": "a: 1\n  b: 2\n"})
    assert_issues(got, ["secrets.yaml:2: http.host: invalid YAML: mapping values are not allowed here"])


@pytest.mark.parametrize(
    ("secret_value", "where", "expected"),
    [
        ("424242", "password", "expected a non-empty string, got a number from !secret (value hidden)"),
        (
            "[hunter2, '424242']",
            "password",
            "expected a non-empty string, got a list from !secret (value hidden)",
        ),
        ("'424242'", "port", "expected int between 1 and 65535, got a string from !secret (value hidden)"),
    ],
)
def test_secret__invalid_value_is_never_shown(secret_value: str, where: str, expected: str) -> None:
    text = (
        "http:\n  port: !secret value\n"
        if where == "port"
        else "mqtt:\n  users:\n    - username: u\n      password: !secret value\n"
    )
    got = issues_of({"site.yaml": text, "secrets.yaml": f"value: {secret_value}\n"})
    key = "site.yaml:2: http.port" if where == "port" else "site.yaml:4: mqtt.users[0].password"
    assert got == [f"{key}: {expected}"]
    assert "424242" not in "\n".join(got)
    assert "hunter2" not in "\n".join(got)


def test_secret__invalid_duplicate_secret_username_is_not_shown() -> None:
    text = """
    mqtt:
      users:
        - {username: !secret name, password: a}
        - {username: !secret name, password: b}
    """
    got = issues_of({"site.yaml": text, "secrets.yaml": "name: hunter2\n"})
    assert got == ["site.yaml:4: mqtt.users[1].username: duplicate username, already used by users[0]"]


def test_mqtt_user__password_not_in_repr() -> None:
    assert "hunter2" not in repr(MqttUser("u", "hunter2"))
    assert "hunter2" not in repr(MqttConfig(users=(MqttUser("u", "hunter2"),)))


# --- !include ---


def test_include__valid_nested_and_relative_to_the_including_file() -> None:
    write(
        {
            "site.yaml": "mqtt: !include conf/mqtt.yaml\nhttp: !include conf/http.yaml\n",
            "conf/mqtt.yaml": "tcp: !include tcp/listener.yaml\nusers: !include users.yaml\n",
            "conf/tcp/listener.yaml": "enabled: true\nport: !include ../port.yaml\n",
            "conf/port.yaml": "1885\n",
            "conf/users.yaml": "- {username: a, password: b}\n",
            "conf/http.yaml": "port: 8081\n",
        }
    )
    config = load_config(Path("site.yaml"))
    assert config.mqtt.tcp == TcpListenerConfig(enabled=True, port=1885)
    assert config.mqtt.users == (MqttUser("a", "b"),)
    assert config.http.port == 8081


def test_include__valid_same_file_twice_is_not_a_cycle() -> None:
    write({"site.yaml": "http: !include l.yaml\nmqtt: {tcp: !include l.yaml}\n", "l.yaml": "port: 1999\n"})
    config = load_config(Path("site.yaml"))
    assert config.http.port == config.mqtt.tcp.port == 1999


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"site.yaml": "log_level: info\nmqtt: !include missing.yaml\n"},
            ["site.yaml:2: mqtt: included file missing.yaml does not exist"],
        ),
        (
            {"site.yaml": "mqtt: !include\n"},
            ["site.yaml:1: mqtt: !include needs a file path"],
        ),
        (
            # The error inside the included file is reported with that file's name and line.
            {
                "site.yaml": "log_level: info\nmqtt: !include inc/mqtt.yaml\nbogus: 1\n",
                "inc/mqtt.yaml": "allow_anonymous: false\ntcp:\n  enabled: true\n  port: abc\n",
            },
            [
                "site.yaml:3: bogus: unknown key",
                "inc/mqtt.yaml:4: mqtt.tcp.port: expected int between 1 and 65535, got 'abc'",
            ],
        ),
        (
            {
                "site.yaml": "mqtt: !include a.yaml\n",
                "a.yaml": "tcp: !include b/b.yaml\n",
                "b/b.yaml": "enabled: true\nhost: 127.0.0.1\nport: 70000\n",
            },
            ["b/b.yaml:3: mqtt.tcp.port: expected int between 1 and 65535, got 70000"],
        ),
        (
            {
                "site.yaml": "http:\n  port: 1\nmqtt: !include inc.yaml\n",
                "inc.yaml": "tcp:\n  port: 1\n bad\n",
            },
            ["inc.yaml:3: mqtt: invalid YAML: expected <block end>"],
        ),
        (
            {"site.yaml": "mqtt: !include site.yaml\n"},
            ["site.yaml:1: mqtt: include cycle: site.yaml -> site.yaml"],
        ),
        (
            {
                "site.yaml": "mqtt: !include a.yaml\n",
                "a.yaml": "tcp: !include b.yaml\n",
                "b.yaml": "x: !include a.yaml\n",
            },
            [
                "b.yaml:1: mqtt.tcp.x: include cycle: a.yaml -> b.yaml -> a.yaml",
                "b.yaml:1: mqtt.tcp.x: unknown key",
            ],
        ),
    ],
)
def test_include__invalid(files: dict[str, str], expected: list[str]) -> None:
    assert_issues(issues_of(files), expected)


# --- errors and loader internals ---


@pytest.mark.parametrize(
    ("issue", "text"),
    [
        (ConfigIssue(Path("a.yaml"), 3, "http.port", "bad"), "a.yaml:3: http.port: bad"),
        (ConfigIssue(Path("a.yaml"), None, "", "cannot read file"), "a.yaml: cannot read file"),
        (ConfigIssue(Path("a.yaml"), 1, "", "invalid YAML"), "a.yaml:1: invalid YAML"),
    ],
)
def test_config_issue__valid(issue: ConfigIssue, text: str) -> None:
    assert str(issue) == text
    assert str(ConfigError([issue, issue])) == f"{text}\n{text}"


def test_load_yaml__valid_marks(in_tmp: Path) -> None:
    write(
        {"site.yaml": "# top\na: 1\nb:\n  - x\n  - !include i.yaml\nc: {d: 2}\n", "i.yaml": "# i\n\ne: 3\n"}
    )
    data, files = load_yaml(Path("site.yaml"))
    assert files == [Path("site.yaml"), Path("i.yaml")]
    assert isinstance(data, MarkedDict)
    assert data.mark.line == 2
    assert {key: mark.line for key, mark in data.key_marks.items()} == {"a": 2, "b": 3, "c": 6}
    items = data["b"]
    assert isinstance(items, MarkedList)
    assert [(str(mark.file), mark.line) for mark in items.item_marks] == [("site.yaml", 4), ("i.yaml", 3)]
    assert items[1].key_marks["e"].line == 3
    assert (data["c"].mark.line, data["c"].key_marks["d"].line) == (6, 6)


# --- config.example.yaml ---


@pytest.fixture
def example(in_tmp: Path) -> Path:
    shutil.copy(EXAMPLE, in_tmp / "config.yaml")
    (in_tmp / "secrets.yaml").write_text("dashboard_mqtt_password: example-password\n")
    return in_tmp / "config.yaml"


def test_example__valid(example: Path) -> None:
    config = load_config(example)
    # The example shows the defaults, plus one user.
    assert config.mqtt.users[0].username == "dashboard"
    assert config.mqtt.users[0].password == "example-password"
    assert dataclasses.replace(config.mqtt, users=()) == MqttConfig()
    # ... and one alarm limit rule and one status card.
    assert config.alarms.limits[0].point == "ahu-1.supply_temp"
    assert config.alarms.status_cards[0].points[0].states == {0: "Off", 1: "Auto", 2: "Manual"}
    alarms = dataclasses.replace(config.alarms, limits=(), status_cards=())
    assert dataclasses.replace(config, mqtt=MqttConfig(), alarms=alarms, source=None) == dataclasses.replace(
        HubConfig(), data_dir=example.parent / "data"
    )


def test_example__documents_every_key(example: Path) -> None:
    data, _ = load_yaml(example)
    for section, dataclass_type in SECTIONS.items():
        mapping = data
        for part in section:
            mapping = mapping[0] if part == "*" else mapping[part]
        documented = set(mapping)
        expected = {f.name for f in dataclasses.fields(dataclass_type)} - {"source"}
        assert documented == expected, f"{'.'.join(section) or 'top level'} in config.example.yaml"
