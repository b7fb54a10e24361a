"""The hub's identity: generated once, kept in the data dir, overridden by the config."""

import json
import re

import pytest

from hub.config import IdentityConfig
from hub.identity import IDENTITY_FILE, Identity, load_identity

ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def test_generated_on_first_start_and_persisted(tmp_path):
    identity = load_identity(IdentityConfig(), tmp_path)
    for value in (identity.org_id, identity.site_id, identity.iot_device_id):
        assert ID.fullmatch(value)
    assert json.loads((tmp_path / IDENTITY_FILE).read_text()) == {
        "org_id": identity.org_id,
        "site_id": identity.site_id,
        "iot_device_id": identity.iot_device_id,
    }
    assert load_identity(IdentityConfig(), tmp_path) == identity  # reused, not regenerated


def test_two_hubs_get_different_ids(tmp_path):
    first = load_identity(IdentityConfig(), tmp_path / "a")
    second = load_identity(IdentityConfig(), tmp_path / "b")
    assert first.iot_device_id != second.iot_device_id


def test_topic_prefix():
    assert Identity("acme", "hq", "hub-1").topic_prefix == "iot/global/acme/hq/hub-1/"


def test_config_overrides_what_is_stored(tmp_path):
    generated = load_identity(IdentityConfig(), tmp_path)
    identity = load_identity(IdentityConfig(org_id="acme", site_id="hq"), tmp_path)
    assert identity == Identity("acme", "hq", generated.iot_device_id)  # the device id is kept
    assert json.loads((tmp_path / IDENTITY_FILE).read_text())["org_id"] == "acme"


def test_fully_configured_identity_is_used_as_is(tmp_path):
    config = IdentityConfig(org_id="acme", site_id="hq", iot_device_id="hub-1")
    assert load_identity(config, tmp_path) == Identity("acme", "hq", "hub-1")


def test_unchanged_identity_does_not_rewrite_the_file(tmp_path):
    load_identity(IdentityConfig(), tmp_path)
    path = tmp_path / IDENTITY_FILE
    before = path.stat()
    load_identity(IdentityConfig(), tmp_path)
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (
        before.st_ino,
        before.st_mtime_ns,
    )  # a rewrite replaces the inode


def test_data_dir_is_created(tmp_path):
    load_identity(IdentityConfig(), tmp_path / "new" / "data")
    assert (tmp_path / "new" / "data" / IDENTITY_FILE).is_file()


@pytest.mark.parametrize(
    "content",
    ["{not json", "", "[1, 2]", '"acme"', '{"org_id": "a/b", "site_id": "hq", "iot_device_id": "hub-1"}'],
    ids=["broken-json", "empty", "list", "string", "id-with-slash"],
)
def test_corrupt_identity_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / IDENTITY_FILE
    path.write_text(content)
    with pytest.raises(RuntimeError, match="identity") as raised:
        load_identity(IdentityConfig(), tmp_path)
    assert str(path) in str(raised.value)
    assert path.read_text() == content  # the user's file is left for them to fix
