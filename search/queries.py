"""OpenSearch request bodies, built from a ``SearchQuery`` by pure functions.

No I/O and no ``opensearchpy`` here (``search.opensearch`` sends the bodies), so
every body can be checked in unit tests. User text only ever appears as the value
of match-style clauses (``multi_match``, ``match``, ``match_phrase``,
``match_phrase_prefix``) or as a literal ``term``/``prefix`` value on a keyword
field: it is never parsed as query syntax (no ``query_string``).

The node we test against has only the analysis-common module: no painless
scripts, no ``rank_feature``, no ``search_as_you_type``. Popularity therefore
uses ``function_score`` + ``field_value_factor`` and autocomplete uses an
edge n-gram subfield.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from core.text import composed
from search.analysis import QueryPlan, analyse
from search.category_feedback import CATEGORY_WINDOW
from search.fts_text import name_key, suggest_typo_edits, typed_run_together, words_of
from search.highlights import FIELDS as HIGHLIGHTED_FIELDS
from search.interfaces import FACETS, SearchQuery
from search.opensearch_index import FACET_KEYS
from search.opensearch_spelling import ask_spelling
from search.opensearch_text import (
    FUZZINESS,
    INSTALLS_WEIGHT,
    NAME_SEPARATOR,
    clean_text,  # also queries.clean_text, for the backend
    fold,
    term_filters,
    text_filter,
    text_query,
)

# OpenSearch refuses from + size beyond index.max_result_window (default 10,000);
# a page past it answers with no hits (and the true total) instead of an error.
MAX_RESULT_WINDOW = 10_000
MAX_PER_PAGE = 100


# ---------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------

MIN_RATING_STEPS = ("4", "3", "2", "1")
# Distinct "facet:value" keys to count: categories + badges + regions + a handful.
FACET_KEYS_SIZE = 1000


def _as_float32(value: float) -> float:
    """``value`` as the index stores a ``float`` field, so a rating counted here
    as ">= 4" is also found by the range filter on ``rating_average``. A value
    that is no number counts as 0 (the index then refuses the document)."""
    try:
        return struct.unpack("f", struct.pack("f", float(value)))[0]
    except (TypeError, ValueError, OverflowError):
        return 0.0


def facet_keys(document: dict) -> list[str]:
    """Every facet value of a document as "facet:value".

    Counting all facets with ONE terms aggregation over this field instead of
    seven aggregations over seven fields is what keeps facets cheap: measured on
    100k documents, 2 ms instead of 23 ms when browsing everything.
    """
    keys = [f"category:{document.get('category_slug', '')}",
            "pricing:free" if document.get("is_free") else "pricing:paid"]
    if document.get("has_trial"):
        keys.append("has_trial:true")
    if not document.get("write_access"):
        keys.append("read_only:true")
    rating = _as_float32(document.get("rating_average") or 0.0)
    keys += [f"min_rating:{step}" for step in MIN_RATING_STEPS if rating >= float(step)]
    keys += [f"badges:{badge}" for badge in document.get("badges") or ()]
    keys += [f"regions:{region}" for region in document.get("regions") or ()]
    return keys


def source_document(document: dict) -> dict:
    """What we store for a search document: the document with its texts composed
    (``core.text.composed``: OpenSearch's analyzers would split a decomposed accent
    off its letter), plus its facet keys."""
    stored = {key: _composed_value(value) for key, value in document.items()}
    stored[FACET_KEYS] = facet_keys(document)
    return stored


def _composed_value(value):
    if isinstance(value, str):
        return composed(value)
    if isinstance(value, list):
        return [composed(item) if isinstance(item, str) else item for item in value]
    return value


def filter_clauses(query: SearchQuery) -> dict[str, dict]:
    """The active filters, keyed by the facet each belongs to."""
    clauses: dict[str, dict] = {}
    if query.categories:
        clauses["category"] = {"terms": {"category_slug": list(query.categories)}}
    if query.pricing in ("free", "paid"):
        clauses["pricing"] = {"term": {"is_free": query.pricing == "free"}}
    if query.has_trial:
        clauses["has_trial"] = {"term": {"has_trial": True}}
    if query.min_rating is not None:
        clauses["min_rating"] = {"range": {"rating_average": {"gte": float(query.min_rating)}}}
    if query.badges:
        clauses["badges"] = {"terms": {"badges": list(query.badges)}}
    if query.regions:
        clauses["regions"] = {"terms": {"regions": list(query.regions)}}
    if query.read_only:
        clauses["read_only"] = {"term": {"write_access": False}}
    return clauses


def _facet_terms(include: str | None = None) -> dict:
    terms = {"field": FACET_KEYS, "size": FACET_KEYS_SIZE,
             "order": [{"_count": "desc"}, {"_key": "asc"}]}
    if include is not None:
        terms["include"] = include
    return {"terms": terms}


def _every(clauses: list[dict]) -> dict:
    return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}


def facet_aggs(filters: dict[str, dict]) -> dict:
    """Facet aggregations, for a search whose filters are in its main query (browsing,
    or text with no filter), whose counts follow every filter except the facet's own.

    The ``facets`` terms agg over ``facet_keys`` counts the main query's matches,
    which serves every facet whose own filter is not active. A facet whose own
    filter IS active needs a different document set: ``own_<facet>``, a ``global``
    agg (which escapes the main query) holding a ``filter`` agg with the OTHER
    filters, cheap without text (``post_filtered_facet_aggs`` serves a text search).
    With no filter active that is one aggregation in all.
    """
    aggs = {"facets": _facet_terms()}
    for name in FACETS:
        if name not in filters:
            continue
        scope = [clause for other, clause in filters.items() if other != name]
        aggs[f"own_{name}"] = {"global": {}, "aggs": {"scoped": {
            "filter": _every(scope),
            "aggs": {"values": _facet_terms(include=f"{name}:.*")},
        }}}
    return aggs


def post_filtered_facet_aggs(filters: dict[str, dict]) -> dict:
    """Facet aggregations for a text search whose filters are its ``post_filter``:
    the aggregations see every listing the text matches, each counting under the
    filters but its own facet's (``own_<facet>``, for an active one) or under all of
    them (``facets``, for the rest).

    Asked in a ``global`` aggregation instead (``facet_aggs``), each facet whose
    filter is active asked the text again of every listing: three filters took a
    search of 30,000 listings from 13 ms to 44 ms, and 23 ms this way
    (docs/performance.md)."""
    aggs = {"facets": {"filter": _every(list(filters.values())),
                       "aggs": {"values": _facet_terms()}}}
    for name in FACETS:
        if name in filters:
            others = [clause for other, clause in filters.items() if other != name]
            aggs[f"own_{name}"] = {"filter": _every(others),
                                   "aggs": {"values": _facet_terms(include=f"{name}:.*")}}
    return aggs


def unmatched_searches(plan: QueryPlan) -> list[dict]:
    """An ``_msearch`` body that asks, for each term of ``plan``, whether any listing
    has it (as written, by a synonym or a correction; a typo's near words are not the
    word): each search stops at its first match (``terminate_after``), so a common
    word costs no more than a rare one. ``unmatched_words`` reads the answer."""
    lines: list[dict] = []
    for clause in term_filters(plan, typos=False):
        lines += [{}, {"query": clause, "size": 0, "terminate_after": 1,
                       "track_total_hits": True}]
    return lines


def unmatched_words(plan: QueryPlan, response: dict) -> tuple[str, ...]:
    """The terms of ``plan`` no listing has, as written, from the answer to
    ``unmatched_searches`` (a term whose search failed counts as had)."""
    answers = response.get("responses") or []
    return tuple(term.written for term, answer in zip(plan.terms, answers)
                 if ((answer.get("hits") or {}).get("total") or {}).get("value", 1) == 0)


def sort_clause(query: SearchQuery, has_text: bool) -> list:
    """The sort for ``query.sort``; ties broken by id (newest listing first) so
    pages are stable."""
    tie = {"id": {"order": "desc"}}
    sort = query.sort
    if sort == "relevance" and has_text:
        return [{"_score": {"order": "desc"}}, tie]
    if sort == "rating":
        # unmapped_type: an index made before the field existed sorts instead of
        # failing until the next reindex.
        # https://opensearch.org/docs/latest/search-plugins/searching-data/sort/
        return [{"rating_score": {"order": "desc", "unmapped_type": "float"}},
                {"rating_count": {"order": "desc"}}, tie]
    if sort == "installs":
        return [{"installs": {"order": "desc"}}, tie]
    if sort == "updated":
        return [{"updated_at": {"order": "desc"}}, tie]
    # "newest", "relevance" without text, and anything unknown.
    return [{"published_at": {"order": "desc"}}, tie]


def page_window(query: SearchQuery) -> tuple[int, int]:
    """``(from, size)`` for the query's page; ``size`` 0 past the result window."""
    per_page = max(1, min(int(query.per_page), MAX_PER_PAGE))
    page = max(1, int(query.page))
    start = (page - 1) * per_page
    if start + per_page > MAX_RESULT_WINDOW:
        return 0, 0
    return start, per_page


def category_window(query: SearchQuery, has_text: bool) -> tuple[int, int] | None:
    """``(from, size)`` of the page among the first matches, when category feedback
    reorders them (``search.category_feedback``): a search by relevance whose page
    starts within the first ``CATEGORY_WINDOW``. Those matches are all fetched then,
    from the first, with their categories; None otherwise."""
    start, size = page_window(query)
    if not has_text or not size or start >= CATEGORY_WINDOW or query.sort != "relevance":
        return None
    return start, size


def search_body(query: SearchQuery, plan: QueryPlan | None = None, *,
                with_facets: bool = True, corrected_name: str | None = None,
                spelling: bool = False) -> dict:
    """The ``_search`` body for ``query``: one page of ids, total and facets, and the
    hits' name, tagline and description when there is text (marked in Python:
    ``search.highlights``).

    ``plan``: the analysed text (by default ``analyse(query.text)``, without
    synonyms); ``corrected_name``: a corrected text that also counts as an
    exact name; ``spelling``: also ask which words the index doesn't hold."""
    text = clean_text(query.text)
    if plan is None:
        plan = analyse(text)
    if plan.empty:
        text = ""
    matching = text_filter(plan) if text else None
    filters = filter_clauses(query)
    sort = sort_clause(query, bool(text))
    by_score = "_score" in sort[0]

    # A text search with filters and facets filters its hits after the text (the
    # post_filter), so its facets count among the text's matches without asking for
    # the text again (``post_filtered_facet_aggs``); hits, order and total are the
    # same. Otherwise the filters are in the query (cached, and only the filtered
    # listings are scored).
    post_filtered = with_facets and matching is not None and bool(filters)
    main: dict = {"bool": {}}
    if matching is not None:
        main["bool"]["must"] = [text_query(plan, corrected_name) if by_score else matching]
    if filters and not post_filtered:
        main["bool"]["filter"] = list(filters.values())
    if not main["bool"]:
        main = {"match_all": {}}

    start, size = page_window(query)
    window = category_window(query, matching is not None)
    if window is not None:
        start, size = 0, max(start + size, CATEGORY_WINDOW)
    body: dict = {
        "query": main,
        "from": start,
        "size": size,
        "track_total_hits": True,
        "_source": False,  # ids come from _id; pages load rows from the database
        "sort": sort,
    }
    if window is not None:
        body["docvalue_fields"] = ["category_slug"]
    if post_filtered:
        body["post_filter"] = _every(list(filters.values()))
        body["aggs"] = post_filtered_facet_aggs(filters)
    elif with_facets:
        body["aggs"] = facet_aggs(filters)
    if matching is not None and size:
        # The words a hit matched are marked in Python, from its text: OpenSearch's
        # highlighter took a third of the answer's time.
        body["_source"] = list(HIGHLIGHTED_FIELDS)
    if spelling and text:
        ask_spelling(body, text, plan)
    return body


def count_body(query: SearchQuery, plan: QueryPlan | None = None,
               corrected_name: str | None = None) -> dict:
    """A body that only counts what ``query`` matches (to check a correction, or
    whether the text alone finds few)."""
    body = search_body(query, plan, with_facets=False, corrected_name=corrected_name)
    body.update({"size": 0, "from": 0})
    body.pop("sort", None)
    body["_source"] = False
    return body


def facets_from(aggregations: dict | None) -> dict[str, list[tuple[str, int]]]:
    """``{facet: [(value, count), ...]}`` from a response's aggregations: zero
    counts left out, sorted by count (high first), then value."""
    aggregations = aggregations or {}
    found: dict[str, dict[str, int]] = {name: {} for name in FACETS}

    def collect(buckets: list, only: str | None = None) -> None:
        for bucket in buckets:
            name, _, value = str(bucket["key"]).partition(":")
            if name in found and (only is None or name == only) and bucket["doc_count"] > 0:
                found[name][value] = bucket["doc_count"]

    # A text search's facets count under filter aggregations (``post_filtered_facet_aggs``:
    # "values" inside each), a browse's in the query and in global ones ("scoped").
    every = aggregations.get("facets") or {}
    own = {name for name in FACETS if f"own_{name}" in aggregations}
    for bucket in every.get("values", every).get("buckets", []):
        if str(bucket["key"]).partition(":")[0] not in own:
            collect([bucket])
    for name in own:
        counted = aggregations[f"own_{name}"]
        collect(counted.get("scoped", counted)["values"]["buckets"], only=name)
    return {name: sorted(values.items(), key=lambda pair: (-pair[1], pair[0]))
            for name, values in found.items()}


# ---------------------------------------------------------------------------------
# Autocomplete
# ---------------------------------------------------------------------------------

SUGGEST_SOURCE = ["slug", "name", "category"]
# What may come between two letters of a name that are typed run together.
_NAME_SEPARATORS = NAME_SEPARATOR + "*"


def _run_together_regexp(words: Sequence[str]) -> list[dict]:
    """The names, as ``name.keyword`` has them (folded, punctuation kept), that start
    with ``words``' letters and digits whatever spaces, hyphens or dots come between
    them ("w[^a-z0-9]*i[^a-z0-9]*f[^a-z0-9]*i.*" for "wifi": *Wi-Fi Guest Portal*):
    one ``regexp`` clause, or none when typed too far (``typed_run_together``). Not
    on ``name.key``: OpenSearch runs a keyword field's normalizer over a regular
    expression too, and that one turns its operators into spaces. A word holds
    letters and digits only, which are literal in Lucene's regular expressions."""
    joined = typed_run_together(name_key(words))
    if not joined:
        return []
    return [{"regexp": {"name.keyword": {"value": _NAME_SEPARATORS.join(joined) + ".*",
                                         "boost": 10}}}]


def suggest_body(prefix: str, limit: int) -> dict | None:
    """The ``_search`` body for autocomplete, or None when ``prefix`` has no word
    to complete (nothing to ask)."""
    text = clean_text(prefix)
    words = words_of(text)  # letters and digits: "_" or "*" alone is nothing to ask
    if not words:
        return None
    return _suggest_body({"bool": {
        "must": [{"bool": {"should": [
            # Every word of the prefix starts a word of the name, ...
            {"match": {"name.edge": {"query": text, "operator": "and"}}},
            # ... or the name starts with the prefix once their words run
            # together ("wifi" for "Wi-Fi Guest Portal", "k12" for "K-12").
            *_run_together_regexp(words),
        ]}}],
        "should": [
            # Names that start with the prefix first ...
            {"prefix": {"name.keyword": {"value": fold(text), "boost": 20}}},
            # ... then the words in the same order.
            {"match_phrase_prefix": {"name": {"query": text, "boost": 2}}},
        ],
    }}, limit)


def misspelt_suggest_body(prefix: str, limit: int) -> dict | None:
    """The autocomplete body asked when ``suggest_body`` finds nothing: every word
    of the prefix starts a word of the name give or take the typos search forgives
    in names (``fts_text.suggest_typo_edits``: the first letter as typed); None when
    no word is long enough to have one."""
    text = clean_text(prefix)
    words = words_of(text)
    if not any(map(suggest_typo_edits, words)):
        return None
    return _suggest_body({"match": {"name.edge": {
        "query": text, "operator": "and", "fuzziness": FUZZINESS, "prefix_length": 1}}}, limit)


def _suggest_body(query: dict, limit: int) -> dict:
    """Autocomplete's ``_search`` body for ``query``, the more installed first."""
    return {
        "query": {"function_score": {
            "query": query,
            "functions": [{"weight": 1},
                          {"field_value_factor": {"field": "installs", "modifier": "log1p",
                                                  "missing": 0},
                           "weight": INSTALLS_WEIGHT}],
            "score_mode": "sum",
            "boost_mode": "multiply",
        }},
        "size": max(0, min(int(limit), 50)),
        "_source": SUGGEST_SOURCE,
        "sort": [{"_score": {"order": "desc"}}, {"id": {"order": "desc"}}],
        "track_total_hits": False,
    }
