"""bench/site.py at a tiny scale: every part of the site runs and no sample is lost.

The harness is run as a user runs it (a subprocess, `--json`), with real parts only: BACnet devices
over UDP, Modbus servers, the hub process, WebSocket subscribers, the BMS connection, the bridge to
a real Mosquitto and Chromium. Only counts are checked, never timings.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mosquitto import MOSQUITTO
from tests.ui_site import CHROMIUM

REPO = Path(__file__).resolve().parent.parent
RUN_S = 8
TINY = {"bacnet": 3, "modbus": 2, "flows": 5, "subscribers": 3}

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and Path(MOSQUITTO).exists()),
    reason="needs Debian's chromium and mosquitto",
)


@pytest.fixture(scope="module")
def figures() -> dict:
    command = [sys.executable, "bench/site.py", "--scale", "tiny", "--duration", str(RUN_S), "--warmup", "1"]
    done = subprocess.run([*command, "--json"], cwd=REPO, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_part_of_the_site_ran(figures: dict) -> None:
    assert figures["devices_online"] == TINY["bacnet"] + 1 + TINY["modbus"]  # + the probe device
    assert figures["points_read_per_s"] > 0
    assert figures["flows_running"] == TINY["flows"]
    assert figures["flow_runs"] > 0
    assert figures["subscribers_connected"] == TINY["subscribers"]
    assert figures["subscriber_messages"] > 0
    assert figures["bms_readings_acked"] > 0
    assert figures["bridge_state"] == "connected"
    assert figures["bridge_sent"] > 0


def test_device_changes_reached_a_subscriber_and_the_browser(figures: dict) -> None:
    assert figures["mqtt_rounds"] > 0
    assert figures["mqtt_missed"] == 0
    assert figures["dom_rounds"] > 0
    assert figures["dom_missed"] == 0


def test_no_sample_was_lost(figures: dict) -> None:
    assert figures["lost_expected"] > 0  # the check had device values to look for
    assert figures["lost"] == 0, figures["lost_examples"]
    assert figures["store_dropped"] == 0
    assert figures["bms_readings_accepted"] >= figures["bms_readings_acked"]
