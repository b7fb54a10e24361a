"""The three roles, ordered: each can do everything the ones below it can."""

from enum import StrEnum


class Role(StrEnum):
    """What a user or API token may do: viewer reads, operator also acts, admin also administers."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: "Role") -> bool:
        """Whether this role is `needed` or above it."""
        return self.rank >= needed.rank


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
