"""Secrets at rest: encrypted with a key kept outside the database (a 0600 file or the environment)."""

import stat

import pytest
from cryptography.fernet import Fernet

from hub.auth.secrets import KEY_FILE, SecretBox, SecretError

ENV = "BMS_HUB_TEST_SECRET_KEY"


def test_round_trip_with_a_key_file_created_private_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    box = SecretBox.load(tmp_path, ENV)
    sealed = box.encrypt("bridge-pässword")

    assert "bridge" not in sealed
    assert box.encrypt("bridge-pässword") != sealed  # a fresh IV each time
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    assert SecretBox.load(tmp_path, ENV).decrypt(sealed) == "bridge-pässword"


def test_the_environment_key_wins_and_another_key_cannot_decrypt(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, Fernet.generate_key().decode())
    sealed = SecretBox.load(tmp_path, ENV).encrypt("x")
    assert not (tmp_path / KEY_FILE).exists()

    monkeypatch.delenv(ENV)
    with pytest.raises(SecretError, match="another key, or a damaged value"):
        SecretBox.load(tmp_path, ENV).decrypt(sealed)
    with pytest.raises(SecretError):
        SecretBox.load(tmp_path, ENV).decrypt("not a token")


def test_a_bad_key_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "too-short")
    with pytest.raises(SecretError, match="not a Fernet key"):
        SecretBox.load(tmp_path, ENV)
