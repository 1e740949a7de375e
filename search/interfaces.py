"""The search backend contract: what every implementation offers and returns.

Two implementations are chosen by configuration: ``search.opensearch`` (a real
OpenSearch cluster, ``OPENSEARCH_URL``) and ``search.fts`` (the embedded
default: SQLite FTS5, or PostgreSQL full-text search when the database is
PostgreSQL). One contract test suite (``tests/contract``) runs the same
behaviours against each.

Documents are plain dicts built by ``listings.documents.to_search_document``;
their keys are listed in ``DOCUMENT_FIELDS``. Backends never see model objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

# Every key of a search document, and its type:
DOCUMENT_FIELDS = {
    "id": int,                # listing id
    "slug": str,
    "name": str,
    "tagline": str,
    "description": str,       # plain text (Markdown stripped)
    "category": str,          # category name
    "category_slug": str,
    "tags": list,             # [str]
    "partner": str,           # partner name
    "pricing_model": str,     # free | flat_monthly | usage
    "is_free": bool,
    "has_trial": bool,
    "badges": list,           # [badge kind], active badges only
    "scopes": list,           # [scope name] requested by the current release
    "write_access": bool,     # any requested scope can change data
    "regions": list,          # [region code]
    "rating_average": float,  # 0.0 when there are no published reviews
    "rating_count": int,
    "rating_score": float,    # listings.ranking.rating_score: what the "rating" sort orders by
    "installs": int,
    "active_installs": int,
    "published_at": str,      # ISO 8601 UTC
    "updated_at": str,        # ISO 8601 UTC
}

SORTS = ("relevance", "rating", "installs", "newest", "updated")
PRICING = ("free", "paid")
MAX_QUERY_LENGTH = 200


class SearchUnavailable(RuntimeError):
    """The backend could not answer (down, too slow, or refused the request)."""


@dataclass(frozen=True)
class SearchQuery:
    """A validated search request. Filters combine with AND; the values of one
    multi-valued filter combine with OR (any of the badges, any of the regions).
    An empty ``text`` browses: every published listing matches."""

    text: str = ""
    categories: tuple[str, ...] = ()      # category slugs
    pricing: str | None = None            # "free" or "paid" (anything not free)
    has_trial: bool = False               # only listings with a free trial
    min_rating: float | None = None       # rating_average >= this (1..5)
    badges: tuple[str, ...] = ()          # badge kinds
    regions: tuple[str, ...] = ()         # data residency region codes
    read_only: bool = False               # only apps whose scopes are all read access
    sort: str = "relevance"               # one of SORTS; "relevance" with no text = newest
    page: int = 1
    per_page: int = 24
    # False: search for the words exactly as typed ("Search instead for ...").
    correct_spelling: bool = True

    def without_filters(self) -> SearchQuery:
        """The same text (and sort, page, spelling) with no filter."""
        return replace(self, categories=(), pricing=None, has_trial=False, min_rating=None,
                       badges=(), regions=(), read_only=False)

    @property
    def has_filters(self) -> bool:
        return self != self.without_filters()


@dataclass
class SearchHit:
    id: int
    score: float | None = None
    # field name -> HTML snippet: the text escaped, matches wrapped in <mark>.
    highlights: dict[str, str] = field(default_factory=dict)


@dataclass
class FacetValue:
    value: str
    count: int


# The facets every backend counts (``SearchResult.facets``), in the order they are shown.
FACETS = ("category", "pricing", "has_trial", "min_rating", "badges", "regions", "read_only")


@dataclass
class SearchResult:
    """One page of hits in order, the total number of matches, and the facets.

    Facet counts follow the text and every filter except the facet's own, so a
    customer sees how many results each other choice would give. Facets:
    ``category`` (slugs), ``pricing`` ("free"/"paid"), ``has_trial`` ("true"),
    ``badges``, ``regions``, ``read_only`` ("true"), ``min_rating`` ("4", "3", ...
    meaning "at least that many stars").
    ``corrected_text``: the backend found nothing or very little for the text as
    typed, so it searched for this corrected text instead (the hits are its
    hits: "Showing results for ..."). ``did_you_mean``: a corrected text that
    would find something, offered as a link when the backend did not search
    for it itself (spelling correction was turned off). ``unmatched``: when few
    listings have every word and the hits are those with any (widened), the
    words of the text no listing has at all, as written ("password" in "password
    manager": "No app mentions ...").
    """

    hits: list[SearchHit]
    total: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    did_you_mean: str | None = None
    corrected_text: str | None = None
    unmatched: tuple[str, ...] = ()


@dataclass
class Suggestion:
    id: int
    slug: str
    name: str
    category: str


@runtime_checkable
class SearchBackend(Protocol):
    """What the storefront needs from a search engine. Every method may raise
    ``SearchUnavailable``; none may raise anything else for any user input."""

    name: str

    def index(self, documents: Sequence[dict], timeout: float | None = None) -> None:
        """Add or replace these documents (by ``id``). ``timeout``: the longest to
        wait on a remote index, in seconds (None: the backend's own limit)."""

    def delete(self, listing_ids: Sequence[int], timeout: float | None = None) -> None:
        """Remove these listings; unknown ids are ignored. ``timeout`` as for ``index``."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Run a query. User text is never parsed as query syntax. Listings that
        match every term of the text rank first; listings matching most of them
        follow (``search.analysis``). Words the index does not hold are
        corrected when ``query.correct_spelling``."""

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        """Listings whose name starts with (or whose words start with) ``prefix``,
        best first, for autocomplete."""

    def rebuild(self, documents: Iterable[dict], total: int,
                progress: Callable[[int], None] | None = None) -> int:
        """Build a fresh index from ``documents`` and switch to it atomically:
        searches keep answering from the old index meanwhile. ``progress`` is
        called with the number of documents done so far. Returns how many were
        indexed."""

    def count(self) -> int:
        """How many documents the index holds."""

    def ping(self) -> bool:
        """True when the backend answers now (never raises)."""
