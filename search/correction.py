"""How the embedded backends run a query plan: spelling corrected, widened when
few listings match, and a "did you mean" when correction is turned off.

Both the local index (``search.tantivy_backend``) and the database's full-text
index (``search.fts``) follow these steps; each supplies a ``PlanRunner``.
"""

from __future__ import annotations

from typing import Protocol

from search.analysis import RELAX_BELOW, QueryPlan, Synonyms, analyse, reanalysed
from search.common_words import all_common_words
from search.fts_spelling import IndexWords, Speller
from search.interfaces import MAX_QUERY_LENGTH, SearchQuery, SearchResult

# Fewer results than this for the text as typed: try it with its rare words corrected.
FEW_RESULTS = 3


class PlanRunner(Protocol):
    words: IndexWords

    def run_once(self, plan: QueryPlan, query: SearchQuery) -> SearchResult:
        """One search: hits, total and facets for exactly this plan."""

    def is_name(self, plan: QueryPlan) -> bool:
        """Whether the text is exactly some listing's name (then it is no typo)."""

    def finds_any(self, plan: QueryPlan, query: SearchQuery) -> bool:
        """Whether this plan (with the query's filters) finds at least one listing."""


def plan_of(query: SearchQuery, synonyms: Synonyms | None) -> QueryPlan | None:
    """The query's text analysed, or None when it holds only punctuation or
    symbols: nothing to look for (never "everything")."""
    text = (query.text or "")[:MAX_QUERY_LENGTH]
    plan = analyse(text, synonyms)
    return None if text.strip() and plan.empty else plan


def run_plan(runner: PlanRunner, speller: Speller, plan: QueryPlan,
             query: SearchQuery, synonyms: Synonyms | None = None) -> SearchResult:
    """Search for ``plan``.

    Words no listing has are corrected from the index's vocabulary (unless
    ``query.correct_spelling`` is off), and the corrected text gets its synonyms
    (``synonyms``); when the text still finds fewer than ``FEW_RESULTS``, rare
    words are corrected too and the corrected text is searched for if it finds
    more."""
    if not plan.empty and runner.is_name(plan):
        # A name asked for (as typed, or with a space too many: "chatter box") is
        # no typo, whatever words of it no listing has alone.
        return run_widening(runner, plan, query)
    if plan.empty or not query.correct_spelling:
        result = run_widening(runner, plan, query)
        if not plan.empty:
            rare_below = FEW_RESULTS if few_found(runner, plan, query, result) else 1
            result.did_you_mean = did_you_mean(runner, speller, plan, query, rare_below)
        return result
    corrected = reanalysed(speller.correct(runner.words, plan), synonyms)
    if all_common_words(corrected.corrected_words):
        # Words of everyday English in no listing ("plumbers" in "invoicing for
        # plumbers", "best" in "best crm") were meant, not mistyped: what the rest of
        # the text finds is shown as typed, and the correction only offered.
        as_typed = run_widening(runner, plan, query)
        if as_typed.total:
            offered = corrected.corrected_text
            as_typed.did_you_mean = offered if runner.finds_any(corrected, query) else None
            return as_typed
    result = run_widening(runner, corrected, query)
    if few_found(runner, corrected, query, result) and not runner.is_name(plan):
        rarer = reanalysed(speller.correct(runner.words, corrected, rare_below=FEW_RESULTS),
                           synonyms)
        if rarer != corrected:
            second = run_widening(runner, rarer, query)
            if second.total > result.total:
                corrected, result = rarer, second
    if result.total:
        result.corrected_text = corrected.corrected_text
    return result


def few_found(runner: PlanRunner, plan: QueryPlan, query: SearchQuery,
              result: SearchResult) -> bool:
    """Whether the text finds fewer than ``FEW_RESULTS`` listings (``result``: what it
    found with the query's filters). Few is the text's to say, not the filters', as
    for widening: a text that finds plenty without them is searched for as typed."""
    if result.total >= FEW_RESULTS:
        return False
    return (not query.has_filters
            or run_widening(runner, plan, query.without_filters()).total < FEW_RESULTS)


def run_widening(runner: PlanRunner, plan: QueryPlan, query: SearchQuery) -> SearchResult:
    """One search; when few match the text, again with any one term enough."""
    result = runner.run_once(plan, query)
    # The very app named needs no company (and a name's common word, like
    # "Scheduler", would otherwise bring back half the catalog).
    relaxed = (plan.relaxed() if result.total < RELAX_BELOW and not runner.is_name(plan)
               else None)
    if (relaxed is not None and query.has_filters
            and runner.run_once(plan, query.without_filters()).total >= RELAX_BELOW):
        # Few is the text's to say, not the filters': a filter that leaves a few
        # full matches must not widen them, or the facet count beside it (full
        # matches) is not what choosing it shows.
        relaxed = None
    if relaxed is not None:
        wider = runner.run_once(relaxed, query)
        if wider.total > result.total:
            # The hits have some of the words: say which no listing has at all.
            wider.unmatched = tuple(
                term.written for n, term in enumerate(relaxed.terms)
                if not runner.finds_any(relaxed.term_alone(n), query.without_filters()))
            return wider
    return result


def did_you_mean(runner: PlanRunner, speller: Speller, plan: QueryPlan, query: SearchQuery,
                 rare_below: int) -> str | None:
    """The corrected text, offered as a link when spelling correction is off:
    words in no listing corrected (and rare ones, ``rare_below``), and only
    when the corrected text finds something."""
    corrected = speller.correct(runner.words, plan, rare_below=rare_below)
    text = corrected.corrected_text
    if not text:
        return None
    return text if runner.finds_any(corrected, query) else None
