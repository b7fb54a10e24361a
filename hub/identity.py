"""Who this hub is on the MQTT topic tree: org, site and device ids, stable across restarts."""

import json
import logging
import os
import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from hub.config import IdentityConfig

_LOGGER = logging.getLogger(__name__)
IDENTITY_FILE = "identity.json"
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Identity:
    """The three ids that prefix every topic: `iot/global/{org_id}/{site_id}/{iot_device_id}/`."""

    org_id: str
    site_id: str
    iot_device_id: str

    @property
    def topic_prefix(self) -> str:
        return f"iot/global/{self.org_id}/{self.site_id}/{self.iot_device_id}/"


def load_identity(config: IdentityConfig, data_dir: Path) -> Identity:
    """Ids from the config; any missing one is generated on first start and kept in the data dir."""
    path = data_dir / IDENTITY_FILE
    stored = _read_stored(path) if path.exists() else {}
    generated = {
        "org_id": "org-" + secrets.token_hex(4),
        "site_id": "site-" + secrets.token_hex(4),
        "iot_device_id": "hub-" + secrets.token_hex(4),
    }
    values = {
        key: getattr(config, key) or stored.get(key) or generated[key]
        for key in ("org_id", "site_id", "iot_device_id")
    }
    identity = Identity(**values)
    if asdict(identity) != stored:
        _write_atomically(path, json.dumps(asdict(identity), indent=2) + "\n")
        _LOGGER.info("identity %s saved to %s", identity.topic_prefix, path)
    return identity


def _read_stored(path: Path) -> dict[str, str]:
    """The ids saved on an earlier start; anything unusable is a clear error, never a traceback."""
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise RuntimeError(f"{path}: unreadable identity file ({err}); fix or delete it") from err
    if not isinstance(stored, dict) or not all(
        isinstance(value, str) and _ID.fullmatch(value) for value in stored.values()
    ):
        raise RuntimeError(
            f"{path}: invalid identity file (expected ids of A-Z, a-z, 0-9, _ and -); fix or delete it"
        )
    return stored


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a crash leaves the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
