"""Page numbers from ``?page=``, shared by every paginated page."""

from __future__ import annotations

from math import ceil

from flask import request

# Far beyond any real catalog; keeps OFFSET inside a 64-bit integer.
MAX_PAGE = 1_000_000
# Python's int() refuses longer digit strings (sys.get_int_max_str_digits()).
MAX_DIGITS = 4300


def page_number(raw: str | None = None) -> int:
    """The ``?page=`` value (or ``raw``) as a page number; anything that is not a
    whole number >= 1 written in ASCII digits is page 1 (``int`` would also read
    "1_0", " 2 ", "+2" and other scripts' digits)."""
    if raw is None:
        raw = request.args.get("page")
    if not raw or not (raw.isascii() and raw.isdigit()):
        return 1
    if len(raw) > MAX_DIGITS:
        return 1  # no page number anyone means (and more than int() reads)
    page = int(raw)
    return min(page, MAX_PAGE) if page >= 1 else 1


def page_count(total: int, per_page: int) -> int:
    """How many pages ``total`` items fill; an empty list still has page 1."""
    return max(1, ceil(total / per_page))
