"""The demo configuration `bms-hub run` uses without a config file."""

import stat

from hub.config import HubConfig, default_config
from hub.demo import DEMO_USER, PASSWORD_FILE, admin_password, demo_config


def test_demo_config__simulated_site_and_one_admin(tmp_path):
    base = HubConfig(data_dir=tmp_path / "data")

    config = demo_config(base)

    assert config.integrations == {"simulator": {"scenario": "demo"}}
    assert config.mqtt.users == ()  # the admin lives in the user store, and is the broker's too
    assert config.auth.admin_password_file == tmp_path / "data" / PASSWORD_FILE
    assert config.auth.admin_password_file.read_text().strip()
    assert DEMO_USER == "admin"
    assert config.http == base.http
    assert default_config().integrations == {}  # only the demo, not every default, runs the simulator


def test_admin_password__generated_once_private_and_kept(tmp_path):
    first = admin_password(tmp_path / "data")
    path = tmp_path / "data" / PASSWORD_FILE

    assert len(first) >= 16
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert admin_password(tmp_path / "data") == first
    assert admin_password(tmp_path / "other") != first
    assert not list((tmp_path / "data").glob(".*.tmp"))


def test_admin_password__an_empty_file_gets_a_new_password(tmp_path):
    (tmp_path / PASSWORD_FILE).write_text("\n")

    password = admin_password(tmp_path)

    assert password
    assert (tmp_path / PASSWORD_FILE).read_text().strip() == password
