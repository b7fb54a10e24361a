"""A secret kept in a file readable by its owner only: read it, or generate and write it once."""

import os
from collections.abc import Callable
from pathlib import Path


def kept_secret(path: Path, generate: Callable[[], str]) -> str:
    """The secret in `path`, or a new one from `generate()` written there (mode 0600, atomically)."""
    try:
        kept = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        return kept
    secret = generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(secret + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)  # a crash leaves the old state or the whole new file, never half of it
    return secret
