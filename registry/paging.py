"""Paging arithmetic shared by every paged list: directory results, the finder's matches, referral lists."""

from __future__ import annotations


def page_count(total: int, page_size: int) -> int:
    """How many pages ``total`` items fill: at least one, so an empty list still has a page that says so."""
    return max(1, -(-total // page_size))


def clamp_page(page: int, total: int, page_size: int) -> int:
    """``page`` kept within the pages there are (a page past the end shows the last)."""
    return min(max(1, page), page_count(total, page_size))


class Paged:
    """What pagination needs from one page of a list of ``total`` items, ``page_size`` a page (``page`` from 1)."""

    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.page_size)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages
