"""Secrets at rest (bridge and BMS passwords admins may reveal), encrypted with a key kept outside the DB.

The key comes from an environment variable (a Fernet key: 32 url-safe base64-encoded bytes) or
from `data_dir/secret.key`, created on first use with mode 0600. Losing the key loses the
secrets; the database alone reveals nothing.
"""

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from hub.auth.private_file import kept_secret

KEY_FILE = "secret.key"


class SecretError(Exception):
    """A ciphertext this key cannot open (another key, or damaged)."""


class SecretBox:
    """Encrypts and decrypts short strings (Fernet: AES-128-CBC with an HMAC-SHA256 tag)."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError as err:
            raise SecretError(f"the secrets key is not a Fernet key: {err}") from None

    @classmethod
    def load(cls, data_dir: Path, env_var: str) -> "SecretBox":
        """The box for the key in `env_var`, or in data_dir/secret.key (created 0600 if missing)."""
        from_env = os.environ.get(env_var)
        if from_env:
            return cls(from_env.encode())
        return cls(kept_secret(data_dir / KEY_FILE, lambda: Fernet.generate_key().decode()).encode())

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except (InvalidToken, ValueError):
            raise SecretError("cannot decrypt: another key, or a damaged value") from None
