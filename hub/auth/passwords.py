"""Password hashing with argon2id (memory-hard), off the event loop; and the password rules."""

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from hub.auth.settings import AuthConfig

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # hashing cost does not grow with it, but nobody needs more


class Passwords:
    """Hashes and checks passwords in a worker thread: one argon2 hash takes a few hundred ms."""

    def __init__(self, config: AuthConfig) -> None:
        self._hasher = PasswordHasher(time_cost=config.hash_time_cost, memory_cost=config.hash_memory_kib)

    async def hash(self, password: str) -> str:
        """The argon2id hash (with its salt and parameters) of `password`."""
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str, password: str) -> bool:
        """Whether `password` matches `stored_hash`."""
        try:
            return await asyncio.to_thread(self._hasher.verify, stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def burn(self, password: str) -> None:
        """Spend the time of one check, so an unknown user name answers as slowly as a known one."""
        await asyncio.to_thread(self._hasher.hash, password)


def password_problem(password: object) -> str | None:
    """Why `password` cannot be used, or None."""
    if not isinstance(password, str):
        return "expected a string"
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return f"expected {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
    return None
