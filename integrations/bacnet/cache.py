"""What scans found, kept in the integration's data folder so a restart needs no rescan.

One JSON file, rewritten whole (to a temporary file, then renamed) after each scan. A missing or
unreadable file is an empty cache: the devices are scanned again.
"""

import json
import logging
import os
from dataclasses import asdict
from pathlib import Path

from hub.points import PointKind

from .scan import ScannedDevice, ScannedObject

_LOGGER = logging.getLogger(__name__)
CACHE_FILE = "devices.json"
_VERSION = 1


class DeviceCache:
    """Scanned devices by instance, loaded at start and saved after every scan."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / CACHE_FILE
        self.devices: dict[int, ScannedDevice] = {}

    def load(self) -> None:
        """Read the file; a missing or broken one leaves the cache empty (and says so for a broken one)."""
        try:
            raw = json.loads(self.path.read_text())
            self.devices = {d.instance: d for d in (_device(item) for item in raw["devices"])}
        except FileNotFoundError:
            self.devices = {}
        except (ValueError, KeyError, TypeError) as err:
            _LOGGER.warning(
                "ignoring the BACnet device cache %s (%s): devices are scanned again", self.path, err
            )
            self.devices = {}

    def put(self, device: ScannedDevice) -> None:
        """Remember a scan and write the file."""
        self.devices[device.instance] = device
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        payload = {"version": _VERSION, "devices": [asdict(d) for d in self.devices.values()]}
        temporary.write_text(json.dumps(payload, indent=1))
        os.replace(temporary, self.path)


def _device(item: dict) -> ScannedDevice:
    objects = tuple(ScannedObject(**{**obj, "kind": PointKind(obj["kind"])}) for obj in item["objects"])
    return ScannedDevice(**{**item, "objects": objects})
