"""Every paged list (directory, finder, referrals) counts its pages and keeps a page in range the same way."""

from dataclasses import dataclass

import pytest

from registry.paging import Paged, clamp_page, page_count


@pytest.mark.parametrize(('total', 'size', 'pages'), [(0, 20, 1), (1, 20, 1), (20, 20, 1), (21, 20, 2), (520, 20, 26)])
def test_an_empty_list_has_one_page_and_a_partly_filled_page_counts(total, size, pages):
    assert page_count(total, size) == pages


@pytest.mark.parametrize(('asked', 'shown'), [(-3, 1), (0, 1), (1, 1), (2, 2), (3, 3), (4, 3), (99, 3)])
def test_a_page_before_the_first_or_past_the_last_shows_the_nearest_page(asked, shown):
    assert clamp_page(asked, total=45, page_size=20) == shown


def test_a_page_knows_whether_there_is_a_page_before_and_after_it():
    @dataclass
    class Listing(Paged):
        total: int
        page: int
        page_size: int = 20

    first, middle, last = Listing(45, 1), Listing(45, 2), Listing(45, 3)
    assert (first.pages, first.has_previous, first.has_next) == (3, False, True)
    assert (middle.has_previous, middle.has_next) == (True, True)
    assert (last.has_previous, last.has_next) == (True, False)
    assert not Listing(0, 1).has_next
