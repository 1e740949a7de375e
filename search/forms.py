"""Reading the search page's query string into a ``SearchQuery``.

The search page is a GET form that anyone can edit by hand, so nothing here
raises: text that is too long is cut, and filter values we don't know are left
out and named, so the page can say what it ignored instead of failing.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from core.pagination import page_number
from listings.models import BadgeKind
from listings.scopes import REGIONS
from search.interfaces import MAX_QUERY_LENGTH, PRICING, SORTS, SearchQuery

MIN_RATINGS = (4, 3, 2, 1)  # "at least N stars"; 5 would leave only perfect scores
# A hand-made URL may repeat a filter thousands of times; more than this is noise.
MAX_VALUES_PER_FILTER = 50
# How much of an unknown value the notice repeats back.
MAX_SHOWN_VALUE_LENGTH = 40
TRUE_VALUES = ("1", "true", "on", "yes")
FALSE_VALUES = ("", "0", "false", "off", "no")
# Control characters never belong in a search (and NUL is not even valid HTML).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class ParsedSearch:
    """The validated query, and what the page should tell the customer about it."""

    query: SearchQuery
    text_trimmed: bool = False
    # Human-readable descriptions of ignored values, e.g. 'category “nope”'.
    ignored: list[str] = field(default_factory=list)

    def params(self) -> dict[str, str | list[str]]:
        """The query-string parameters that give this search again (without the
        page number), for pagination, sorting and "did you mean" links."""
        query = self.query
        params: dict[str, str | list[str]] = {}
        if query.text:
            params["q"] = query.text
        if query.categories:
            params["category"] = list(query.categories)
        if query.pricing:
            params["pricing"] = query.pricing
        if query.has_trial:
            params["trial"] = "1"
        if query.min_rating is not None:
            params["min_rating"] = str(int(query.min_rating))
        if query.badges:
            params["badge"] = list(query.badges)
        if query.regions:
            params["region"] = list(query.regions)
        if query.read_only:
            params["read_only"] = "1"
        if query.sort != "relevance":
            params["sort"] = query.sort
        if not query.correct_spelling:
            params["exact"] = "1"
        return params

    def filter_params(self) -> list[tuple[str, str]]:
        """The filters alone, as (name, value) pairs, for hidden form fields."""
        pairs = []
        for name, value in self.params().items():
            if name in ("q", "sort", "exact"):
                continue  # a new search may be corrected again
            for one in value if isinstance(value, list) else [value]:
                pairs.append((name, one))
        return pairs


def _visible(value: str | None) -> str:
    """A parameter's value with control characters (which a query string may carry,
    and HTML may not) as spaces, stripped: one of only control characters is empty,
    as if not given."""
    return _CONTROL.sub(" ", value or "").strip()


def visible_text(value: str | None) -> str:
    """Typed text as search reads it: control characters as spaces (a query string
    may carry them, HTML and JSON answers should not echo them), and every run of
    spaces as one."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def _shown(value: str) -> str:
    value = " ".join(value.split())
    if len(value) > MAX_SHOWN_VALUE_LENGTH:
        value = value[:MAX_SHOWN_VALUE_LENGTH] + "…"
    return f"“{value}”"


def _known_values(args: MultiDict, name: str, allowed: Collection[str], label: str,
                  ignored: list[str]) -> tuple[str, ...]:
    """The values of a repeatable filter that are in ``allowed``, in order and
    without repeats; the others are noted in ``ignored``."""
    kept: list[str] = []
    for value in args.getlist(name)[:MAX_VALUES_PER_FILTER]:
        value = _visible(value)
        if not value:
            continue
        if value in allowed:
            if value not in kept:
                kept.append(value)
        else:
            ignored.append(f"{label} {_shown(value)}")
    return tuple(kept)


def _flag(args: MultiDict, name: str, label: str, ignored: list[str]) -> bool:
    value = _visible(args.get(name)).lower()
    if value in TRUE_VALUES:
        return True
    if value not in FALSE_VALUES:
        ignored.append(f"{label} {_shown(value)}")
    return False


def parse_search_args(args: MultiDict, category_slugs: Collection[str],
                      per_page: int) -> ParsedSearch:
    """Turn the search page's query string into a ``SearchQuery``.

    ``category_slugs`` are the categories that exist. Parameters: ``q``,
    ``category`` (repeatable), ``pricing`` (free|paid), ``trial`` (1),
    ``min_rating`` (1-4), ``badge`` (repeatable), ``region`` (repeatable),
    ``read_only`` (1), ``sort``, ``page`` and ``exact`` (1: search for the
    words as typed, with no spelling correction). Never raises.
    """
    ignored: list[str] = []

    # Newlines, tabs and runs of spaces become single spaces.
    raw_text = visible_text(args.get("q"))
    text_trimmed = len(raw_text) > MAX_QUERY_LENGTH
    text = raw_text[:MAX_QUERY_LENGTH].strip()

    categories = _known_values(args, "category", set(category_slugs), "category", ignored)
    badges = _known_values(args, "badge", {kind.value for kind in BadgeKind}, "badge", ignored)
    regions = _known_values(args, "region", REGIONS, "region", ignored)

    pricing = _visible(args.get("pricing")).lower() or None
    if pricing is not None and pricing not in PRICING:
        ignored.append(f"price {_shown(pricing)}")
        pricing = None

    min_rating = None
    raw_rating = _visible(args.get("min_rating"))
    if raw_rating:
        # isascii: "²".isdigit() is true, but int("²") raises.
        if raw_rating.isascii() and raw_rating.isdigit() and int(raw_rating) in MIN_RATINGS:
            min_rating = float(int(raw_rating))
        else:
            ignored.append(f"minimum rating {_shown(raw_rating)}")

    sort = _visible(args.get("sort")).lower() or "relevance"
    if sort not in SORTS:
        ignored.append(f"sort order {_shown(sort)}")
        sort = "relevance"

    query = SearchQuery(
        text=text,
        categories=categories,
        pricing=pricing,
        has_trial=_flag(args, "trial", "free trial", ignored),
        min_rating=min_rating,
        badges=badges,
        regions=regions,
        read_only=_flag(args, "read_only", "read-only", ignored),
        sort=sort,
        page=page_number(args.get("page") or ""),
        per_page=per_page,
        correct_spelling=not _flag(args, "exact", "exact words", ignored),
    )
    return ParsedSearch(query=query, text_trimmed=text_trimmed, ignored=ignored)
