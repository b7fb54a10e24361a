"""One page of a newest-first list, and the links to its neighbours, for the activity views."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """The rows of page `number` of `pages`, out of `total` that match."""

    rows: list[T]
    total: int
    number: int
    pages: int

    def context(self, base: str, kept: dict[str, str]) -> dict[str, Any]:
        """What the templates show: the page's place, and links that keep the filter (`kept`)."""

        def link(number: int) -> str:
            return base + urlencode({**kept, "page": number})

        return {
            "total": self.total,
            "page_number": self.number,
            "pages": self.pages,
            "newer_url": link(self.number - 1) if self.number > 1 else None,
            "older_url": link(self.number + 1) if self.number < self.pages else None,
        }


async def fetch_page(
    fetch: Callable[[int], Awaitable[tuple[list[T], int]]], number: int, size: int
) -> Page[T]:
    """Page `number` (from 1) of `size` rows, fetched as `fetch(offset)` -> (rows, total).

    A number past the end gives the last page: a bookmarked link, or a list that shrank since the
    link was made (events expire), still shows rows rather than "page 7 of 3".
    """
    rows, total = await fetch((number - 1) * size)
    pages = max(1, -(-total // size))
    if number > pages:
        number = pages
        rows, total = await fetch((number - 1) * size)
    return Page(rows, total, number, pages)
