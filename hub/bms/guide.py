"""The settings to enter in each kind of BMS: one source for docs/bms-connections.md and the BMS page.

Values hold `$client_id`, `$username`, `$topic` and `$broker`, filled with a connection's real
credentials on the page and with generic ones (`bms-{id}`) in the docs; the docs sections are the
`markdown()` of each guide, which tests/bms/test_guide.py checks.
"""

from dataclasses import dataclass
from string import Template

from hub.bms.model import BmsType


@dataclass(frozen=True)
class Guide:
    """What to enter in one kind of BMS: a table of its settings and a payload template."""

    bms_type: BmsType
    title: str
    intro: str
    column: str  # the table's first heading: whose settings these are
    settings: tuple[tuple[str, str], ...]  # (the BMS's setting, the value to enter), inline Markdown
    template_intro: str
    template: str  # JSON


@dataclass(frozen=True)
class Values:
    """What fills a guide's placeholders: a connection's credentials and where its BMS connects."""

    client_id: str
    username: str
    topic: str
    broker: str  # inline Markdown

    def fill(self, text: str) -> str:
        return Template(text).safe_substitute(vars(self))


DOCS_VALUES = Values(
    client_id="bms-{id}",
    username="bms-{id}",
    topic="bms/{id}/readings",
    broker="the hub's WebSocket, path `/mqtt` on its HTTP port (`ws://HUB:8080/mqtt`), or its TCP "
    "listener (`mqtt://HUB:1883`, when `mqtt.tcp.enabled` is true)",
)

_CREDENTIALS = (
    ("client id", "`$client_id`"),
    ("user name / password", "`$username` / the generated password"),
)
GUIDES = {
    BmsType.ECOSTRUXURE: Guide(
        BmsType.ECOSTRUXURE,
        "Schneider Electric EcoStruxure Building Operation",
        "EcoStruxure Building Operation (EBO) publishes to an MQTT broker from an Automation Server or "
        "Enterprise Server through its MQTT client interface (an MQTT broker connection with topics and "
        "JSON payloads bound to values). Menu and field names differ between EBO versions; enter these "
        "values in the corresponding fields:",
        "EBO setting",
        (
            ("broker address / URL", "$broker"),
            (
                "transport",
                "MQTT over WebSocket (or TCP when the hub's TCP listener is enabled and reachable); use "
                "`wss://` when the hub is served over TLS by a reverse proxy",
            ),
            ("protocol version", "MQTT 3.1.1 (the hub does not accept MQTT 5)"),
            *_CREDENTIALS,
            ("publish topic", "`$topic`"),
            ("QoS", "1 (the broker acknowledges after routing)"),
            ("retain", "off"),
            (
                "payload",
                "JSON, one reading per message or a batch; timestamps in UTC (`Z`) or with the "
                "server's offset",
            ),
        ),
        "A payload template for one value, where the placeholders are what EBO substitutes (its value "
        "binding and time stamp):",
        '{"point_id": "AHU1/SupplyTemp", "value": {{value}}, "unit": "degC", "timestamp": "{{timestamp}}"}',
    ),
    BmsType.WEBCTRL: Guide(
        BmsType.WEBCTRL,
        "Automated Logic WebCTRL",
        "WebCTRL publishes over MQTT through its MQTT publishing add-on (data export to an MQTT broker). "
        "Enter:",
        "WebCTRL setting",
        (
            ("broker host / port", "$broker"),
            *_CREDENTIALS,
            ("topic", "`$topic` (a fixed topic: the point goes in the payload, not the topic)"),
            ("QoS", "1"),
            (
                "message format",
                "JSON, using the template below; point ids may be WebCTRL reference paths (`#ahu_1/sa_temp`)",
            ),
        ),
        "A batch of readings (one or more per message):",
        '{"readings": [{"point_id": "#ahu_1/sa_temp", "value": 55.2, "unit": "degF", '
        '"timestamp": "2026-03-01T12:00:00Z"}]}',
    ),
    BmsType.GENERIC: Guide(
        BmsType.GENERIC,
        "Any other system",
        "Any MQTT 3.1.1 client works. Enter:",
        "setting",
        (
            ("broker", "$broker"),
            ("protocol version", "MQTT 3.1.1"),
            *_CREDENTIALS,
            ("topic", "`$topic`"),
            ("QoS", "1"),
        ),
        'One reading per message (or a batch, as `{"readings": [...]}`):',
        '{"point_id": "AHU1/SupplyTemp", "value": 12.5, "unit": "degC", "timestamp": "2026-03-01T12:00:00Z"}',
    ),
}


def markdown(guide: Guide, values: Values = DOCS_VALUES) -> str:
    """The guide as its section of docs/bms-connections.md."""
    rows = "\n".join(f"| {setting} | {values.fill(value)} |" for setting, value in guide.settings)
    return (
        f"### {guide.title}\n\n{guide.intro}\n\n| {guide.column} | value |\n| --- | --- |\n{rows}\n\n"
        f"{guide.template_intro}\n\n```json\n{guide.template}\n```\n"
    )
