"""The customer's search: the results page with its filters, and the
autocomplete answers behind the header's search box.

Every read goes through the search service (``app.extensions["bazaar.search"]``):
OpenSearch when configured, with the embedded index as its fallback. The
backend returns listing ids in order; the cards are read from the database.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup, escape

from core.db import get_session
from core.extensions import limiter
from core.http_caching import public_page
from core.pagination import page_count
from listings import catalog_cache
from listings.browsing import published_cards_in_order
from listings.card_tiles import CardTile, card_tiles
from listings.catalog_cache import current_token
from listings.models import BadgeKind
from listings.queries import categories_in_order, category_names_in_order
from listings.scopes import REGIONS
from search.forms import MIN_RATINGS, ParsedSearch, parse_search_args, visible_text
from search.interfaces import SearchHit, SearchResult, SearchUnavailable
from search.services import kept_search, kept_suggestions

bp = Blueprint("search", __name__)

MAX_SUGGESTIONS = 8
MAX_SUGGEST_LENGTH = 100
# Generous: a fast typist sends a request every few keystrokes (debounced in
# search.js), and several people may share an office's address.
SUGGEST_RATE_LIMIT = "120 per minute"
SORT_LABELS = {
    "relevance": "Best match",
    "rating": "Highest rated",
    "installs": "Most installed",
    "newest": "Newest",
    "updated": "Recently updated",
}
# Highlighted fields shown in place of the listing's own (field -> Listing attribute).
WHOLE_FIELDS = {"name": "name", "tagline": "tagline"}
UNAVAILABLE_MESSAGE = "Search is unavailable right now. Please try again in a minute."


def search_service():
    """The app's search service (built once at start-up by ``search.init_app``)."""
    return current_app.extensions["bazaar.search"]


# --- highlights ---------------------------------------------------------------------


def _unmarked(snippet: str) -> str:
    return snippet.replace("<mark>", "").replace("</mark>", "")


def highlight_html(snippet: str | None) -> str | None:
    """A backend's highlighted snippet, checked before the template marks it safe.

    The contract says backends HTML-escape the text and add only ``<mark>`` and
    ``</mark>``. Should one ever break that promise, the snippet would carry
    other markup: then it is shown as plain text (escaped), never as HTML."""
    if not snippet:
        return None
    plain = _unmarked(snippet)
    if "<" in plain or ">" in plain:
        return str(escape(plain))
    return snippet


def result_tiles(session, hits: list[SearchHit]) -> list[CardTile]:
    """The hits as tiles, in the backend's order, with their checked highlights;
    hits whose listing is no longer published are left out."""
    cards = published_cards_in_order(session, [hit.id for hit in hits])
    highlights = {hit.id: hit.highlights for hit in hits}
    shown_by_listing = {}
    for card in cards:
        shown = {}
        for name, snippet in (highlights.get(card.listing.id) or {}).items():
            checked = highlight_html(snippet)
            if not checked:
                continue
            # The name and tagline replace the card's own text, so only a
            # highlight of the whole field will do (not a fragment of it).
            whole = WHOLE_FIELDS.get(name)
            if whole and html.unescape(_unmarked(checked)) != getattr(card.listing, whole):
                continue
            shown[name] = Markup(checked)  # checked just now: <mark> and escaped text only
        shown_by_listing[card.listing.id] = shown
    return card_tiles(cards, shown_by_listing)


# --- the filter sidebar ---------------------------------------------------------------


@dataclass
class FilterOption:
    value: str
    label: str
    count: int | None
    checked: bool


@dataclass
class FilterGroup:
    """One fieldset of the filter form: checkboxes, or radios with "Any"."""

    param: str
    legend: str
    kind: str  # "checkbox" or "radio"
    options: list[FilterOption]


def _counts(result: SearchResult, facet: str) -> dict[str, int]:
    return {value.value: value.count for value in result.facets.get(facet, [])}


def _multi_group(param: str, legend: str, counts: dict[str, int], selected: tuple[str, ...],
                 labels: Mapping[str, str]) -> FilterGroup | None:
    """Checkboxes for the values that have results, plus any selected ones (so
    they can be unticked even when nothing matches them now)."""
    values = [value for value in counts if value in labels]
    values += [value for value in selected if value not in counts]
    options = [FilterOption(value, labels[value], counts.get(value, 0), value in selected)
               for value in values]
    return FilterGroup(param, legend, "checkbox", options) if options else None


def filter_groups(parsed: ParsedSearch, result: SearchResult,
                  category_names: Mapping[str, str]) -> list[FilterGroup]:
    """The filter form's fieldsets, with each value's facet count (``category_names``:
    {slug: name})."""
    query = parsed.query
    groups: list[FilterGroup | None] = [
        _multi_group("category", "Category", _counts(result, "category"), query.categories,
                     category_names),
    ]
    pricing = _counts(result, "pricing")
    groups.append(FilterGroup("pricing", "Price", "radio", [
        FilterOption("", "Any price", None, query.pricing is None),
        FilterOption("free", "Free", pricing.get("free", 0), query.pricing == "free"),
        FilterOption("paid", "Paid", pricing.get("paid", 0), query.pricing == "paid"),
    ]))
    groups.append(FilterGroup("trial", "Free trial", "checkbox", [
        FilterOption("1", "Has a free trial", _counts(result, "has_trial").get("true", 0),
                     query.has_trial),
    ]))
    ratings = _counts(result, "min_rating")
    chosen_rating = int(query.min_rating) if query.min_rating is not None else None
    groups.append(FilterGroup("min_rating", "Rating", "radio", [
        FilterOption("", "Any rating", None, chosen_rating is None),
        *[FilterOption(str(stars), f"{stars}★ & up", ratings.get(str(stars), 0),
                       chosen_rating == stars) for stars in MIN_RATINGS],
    ]))
    groups.append(_multi_group("badge", "Badges", _counts(result, "badges"), query.badges,
                               {kind.value: kind.label for kind in BadgeKind}))
    groups.append(_multi_group("region", "Data stored in", _counts(result, "regions"),
                               query.regions, REGIONS))
    groups.append(FilterGroup("read_only", "Access", "checkbox", [
        FilterOption("1", "Only apps that need no write access",
                     _counts(result, "read_only").get("true", 0), query.read_only),
    ]))
    return [shown for group in groups if group is not None
            for shown in [_without_empty_choices(group)] if shown is not None]


def _without_empty_choices(group: FilterGroup) -> FilterGroup | None:
    """The group without the choices that would find nothing (kept when chosen,
    so they can be undone); None when no choice with results is left."""
    options = [option for option in group.options
               if option.count is None or option.count > 0 or option.checked]
    if not any(option.count is not None for option in options):
        return None
    return FilterGroup(group.param, group.legend, group.kind, options)


# --- pages ------------------------------------------------------------------------------


def _render_unavailable():
    session = get_session()
    return render_template("search/unavailable.html",
                           categories=categories_in_order(session)), 503


def category_names(session, token: str | None) -> Mapping[str, str]:
    """{slug: name} of every category, in the storefront's order: the values the
    ``category`` filter knows and their labels. Kept in the process for the catalog
    version, since every new search needs them and they change only with the catalog."""
    return catalog_cache.remember_in_process(
        token, "category-names", lambda: MappingProxyType(category_names_in_order(session)))


class _NotKept(Exception):
    """A results page that must not be kept (no backend could answer, or the embedded
    fallback did): it goes out as it is, and the next visitor asks again."""

    def __init__(self, response):
        super().__init__("not kept")
        self.response = response


def _results_page(session, token: str | None, synonyms: str) -> str:
    """The results page for this request's arguments (answers kept by the catalog
    ``token`` and the ``synonyms`` file version); raises ``_NotKept`` with the page
    when it must not be kept."""
    categories = category_names(session, token)
    per_page = current_app.config["PAGE_SIZE"]
    parsed = parse_search_args(request.args, categories, per_page)
    try:
        answer = kept_search(token, search_service(), synonyms, parsed.query)
    except SearchUnavailable:
        raise _NotKept(_render_unavailable()) from None
    result = answer.result
    params = parsed.params()
    page = render_template(
        "search/results.html",
        parsed=parsed,
        query=parsed.query,
        params=params,
        result=result,
        results=result_tiles(session, result.hits),
        degraded=answer.degraded,
        pages=page_count(result.total, per_page),
        groups=filter_groups(parsed, result, categories),
        sort_labels=SORT_LABELS,
        did_you_mean_url=(url_for("search.results", **dict(params, q=result.did_you_mean))
                          if result.did_you_mean else None),
        # "Showing results for <corrected>. Search instead for <as typed>."
        corrected_url=(url_for("search.results", **dict(params, q=result.corrected_text))
                       if result.corrected_text else None),
        exact_url=(url_for("search.results", **dict(params, exact="1"))
                   if result.corrected_text else None),
    )
    if answer.degraded:
        raise _NotKept(page)
    return page


@bp.route("/search")
def results():
    """Search results with filters, facet counts, sorting and pages; with no
    text, every app (newest first)."""
    session = get_session()
    token = current_token(session)
    # Like a catalog page, a results page is the same for every anonymous visitor
    # until the catalog (or, through it, the editors' synonym lines) or the synonym
    # file changes: kept by both, per address, so a repeated search renders nothing.
    # Most searches are asked for once, though: compressed at the fastest level.
    synonyms = current_app.extensions["bazaar.synonyms"].file_set.version
    try:
        return public_page(f"{token}:{synonyms}" if token else None,
                           lambda: _results_page(session, token, synonyms),
                           keep_as=f"search:{request.full_path}", seldom_repeated=True)
    except _NotKept as page:
        return page.response


def _no_store(response):
    # Suggestions change with every publish and are cheap to ask again.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/search/suggest")
@limiter.limit(SUGGEST_RATE_LIMIT)
def suggest():
    """Autocomplete for the search box: JSON ``{"query", "suggestions": [{name,
    slug, category, url}]}``, at most eight, best first."""
    prefix = visible_text(request.args.get("q"))[:MAX_SUGGEST_LENGTH].strip()
    suggestions = []
    if prefix:
        try:
            found = kept_suggestions(get_session(), search_service(), prefix, MAX_SUGGESTIONS)
        except SearchUnavailable:
            return _no_store(jsonify(error=UNAVAILABLE_MESSAGE)), 503
        suggestions = [{"name": s.name, "slug": s.slug, "category": s.category,
                        "url": url_for("storefront.listing", slug=s.slug)}
                       for s in found[:MAX_SUGGESTIONS]]
    return _no_store(jsonify(query=prefix, suggestions=suggestions))
