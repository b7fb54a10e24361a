"""docs/mqtt/*.json against what the hub really sends and accepts, and the examples in docs/mqtt.md."""

import json
import re
from pathlib import Path

import pytest

from hub.mqtt_api.requests import SCHEMAS as REQUEST_SCHEMAS
from hub.mqtt_api.requests import Command
from tests.conftest import StartHub
from tests.mqtt_api.helpers import PREFIX, Received, inbox, simulator_config
from tests.mqtt_api.json_schema import SCHEMAS, load, problems

DOC = SCHEMAS.parent / "mqtt.md"
EXAMPLE = re.compile(r"<!-- schema: (\S+) -->\s*```json\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("name", sorted(path.name for path in SCHEMAS.glob("*.json")))
def test_schema_file__well_formed(name: str):
    schema = load(name)
    assert schema["$id"].endswith("/" + name)
    assert schema["type"] == "object"
    assert set(schema["required"]) <= set(schema["properties"])
    assert problems({}, {**schema, "required": []}) == []  # every keyword is one the checker knows


@pytest.mark.parametrize("command", list(Command))
def test_request_schema__same_fields_as_the_validator(command: Command):
    fields = {str(key) for key in REQUEST_SCHEMAS[command].schema}
    assert set(load(f"{command}.request.json")["properties"]) == fields


def test_doc_examples__conform():
    examples = EXAMPLE.findall(DOC.read_text())
    assert len(examples) >= 10
    for name, text in examples:
        assert problems(json.loads(text), load(name)) == [], name


def schema_for(message: Received) -> str | None:
    suffix = message.topic[len(PREFIX) :]
    if suffix.startswith("command/"):
        _, command, kind = suffix.split("/")
        return f"{command}.{kind}.json" if command in set(Command) and kind != "request" else None
    if suffix in ("bulk", "status/update", "status/heartbeat"):
        return {"bulk": "bulk.json", "status/update": "status-update.json"}.get(
            suffix, "status-heartbeat.json"
        )
    if suffix == "alarms/event":
        return "alarm-event.json"
    return "point.json" if message.payload else None


async def test_real_payloads__conform(start_hub: StartHub, tmp_path: Path):
    running = await start_hub(simulator_config(tmp_path, batch_interval=0.2))
    async with inbox(running) as box:
        await box.call(
            "get_config", {"command_id": "s-1", "integrations": ["simulator"], "polling_interval": 5}
        )
        write = {"command_id": "s-2", "point_id": "vav-1.zone_setpoint", "value": 21}
        await box.call("set_value_to_point", write)
        await box.call("set_value_to_point", {**write, "command_id": "s-3", "value": 99})
        await box.call("stop_monitoring", {"command_id": "s-4"})
        await box.call("start_monitoring", {"command_id": "s-5"})
        await box.request("reboot", b"{oops")
        await box.response("reboot", None)
        await box.next(lambda m: m.topic == PREFIX + "bulk" and bool(m.json()["points"]))
        await box.next(lambda m: schema_for(m) == "point.json")
        await box.call("reboot", {"command_id": "s-6"})
    checked = {name for m in box.seen if (name := schema_for(m))}
    for message in box.seen:
        name = schema_for(message)
        if name is not None:
            assert problems(message.json(), load(name)) == [], (message.topic, message.payload)
    assert checked >= {
        "get_config.progress.json", "get_config.response.json", "set_value_to_point.response.json",
        "stop_monitoring.response.json", "start_monitoring.response.json", "reboot.response.json",
        "bulk.json", "point.json", "status-update.json", "status-heartbeat.json",
    }  # fmt: skip
