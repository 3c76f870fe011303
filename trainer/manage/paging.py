"""Pages of a list that is already in memory, shaped like Flask-SQLAlchemy's pagination so
the same `_pager.html` serves both."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class ListPage:
    """One page of a list, with the attributes Flask-SQLAlchemy's pagination has."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def paginate_list(items: list, page: int, per_page: int) -> ListPage:
    """A page past the end shows the last page rather than nothing."""
    pages = max(1, math.ceil(len(items) / per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return ListPage(items[start : start + per_page], page, per_page, len(items))
