"""Page numbers from ``?page=``, shared by every paginated page."""

from __future__ import annotations

from math import ceil

from flask import request

# Far beyond any real catalog; keeps OFFSET inside a 64-bit integer.
MAX_PAGE = 1_000_000


def page_number(raw: str | None = None) -> int:
    """The ``?page=`` value (or ``raw``) as a page number; anything that is not a
    whole number >= 1 is page 1."""
    if raw is None:
        raw = request.args.get("page")
    try:
        page = int(raw or "")
    except ValueError:
        return 1
    return min(page, MAX_PAGE) if page >= 1 else 1


def page_count(total: int, per_page: int) -> int:
    """How many pages ``total`` items fill; an empty list still has page 1."""
    return max(1, ceil(total / per_page))
