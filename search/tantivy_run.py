"""One search's reads on the local tantivy index (``search.tantivy_backend``): the
matches, their ranking (tiers, popularity's lift, pseudo-relevance feedback) and facet
counts, and the index's words for spelling correction (``search.correction.PlanRunner``
and ``search.fts_spelling.IndexWords``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import tantivy

from search.analysis import QueryPlan
from search.category_feedback import CATEGORY_VOTERS, category_shares, lift
from search.fts_spelling import IndexWords
from search.interfaces import FACETS, FacetValue, SearchHit, SearchQuery, SearchResult
from search.tantivy_highlights import highlight
from search.tantivy_queries import all_of, constant, idf
from search.tantivy_schema import SUMMARY_FIELDS, indexed_text, text_lifted

if TYPE_CHECKING:  # the backend builds a run; a run only calls back into it
    from search.tantivy_backend import TantivyBackend

Occur, Query = tantivy.Occur, tantivy.Query

MAX_PER_PAGE = 100
RATING_STEPS = (4, 3, 2, 1)
MAX_BUCKETS = 10_000
# Ranking tiers, added to the text score: the exact name, names that start with the
# query, the name it is with its last word finished, the query's words in a name, every
# term matched. Text far below.
EXACT_NAME_BOOST = 1_000_000.0
NAME_PREFIX_BOOST = 100_000.0
COMPLETED_NAME_BOOST = 50_000.0
# The query's words in a name, in order, by their stems ("safer buffers": "safer-buffer"):
# above the other listings with every term.
NAME_PHRASE_BOOST = 20_000.0
ALL_TERMS_BOOST = 10_000.0
# Every tier above is a multiple of this, and no text score comes near it.
TIER_UNIT = ALL_TERMS_BOOST
# How many of the best matches (at least; whole pages) popularity's lift is taken out of
# the tiers for: two pages of 24 (at 100,000 listings p50 +0.2 ms, paired; 100: +0.4 ms).
LIFT_WINDOW = 48
NEAR_SLOP = 2
NEAR_FIELDS = ("name", "tagline", "body")

SORT_FIELDS = {"rating": "sort_rating", "installs": "sort_installs", "updated": "sort_updated",
               "newest": "sort_published"}


# Pseudo-relevance feedback: words most of the best FEEDBACK_DOCS matches share (at most
# FEEDBACK_WORDS, each in two of them or more) lift the matches that have them too, never
# adding any. Tuned on bench/relevance: topical P@10 +0.025 (30 words no better than 10).
FEEDBACK_DOCS = 5
FEEDBACK_WORDS = 10
FEEDBACK_WEIGHT = 2.0


class TantivyRun:
    """One search's reads, on one searcher (``search.correction.PlanRunner``)."""

    def __init__(self, backend: TantivyBackend, searcher: tantivy.Searcher):
        self.backend = backend
        self.schema = backend.schema
        self.searcher = searcher
        self.words = TantivyWords(backend, searcher)

    def is_name(self, plan: QueryPlan) -> bool:
        keys = plan.name_keys
        return bool(keys) and self.searcher.search(
            Query.term_set_query(self.schema, "name_key", keys), 1).count > 0

    def finds_any(self, plan: QueryPlan, query: SearchQuery) -> bool:
        text, _ = self.backend.text_query(plan)
        if text is None:
            return False
        filters = list(self.backend.filters(query).values())
        return self.searcher.search(all_of([text, *filters]), 1).count > 0

    def run_once(self, plan: QueryPlan, query: SearchQuery) -> SearchResult:
        backend = self.backend
        text, terms = (backend.text_query(plan, self.searcher) if not plan.empty
                       else (None, []))
        filters = backend.filters(query)
        if not plan.empty and text is None:
            return SearchResult(hits=[], total=0, facets={name: [] for name in FACETS})
        matches = [constant(text)] if text is not None else []

        def matching(without: str | None = None) -> Query:
            parts = matches + [constant(q) for name, q in filters.items() if name != without]
            return all_of(parts) if parts else Query.all_query()

        per_page = min(max(int(query.per_page), 1), MAX_PER_PAGE)
        offset = (max(int(query.page), 1) - 1) * per_page
        sort = query.sort if query.sort in SORT_FIELDS else "relevance"
        if sort == "relevance" and text is None:
            sort = "newest"
        if sort == "relevance":
            scored = self._ranked(plan, text, terms, matching())
            # The best few for feedback come from the ranking without the
            # neighbouring-words phrases: nearly the same few, at half the cost.
            scored = self._with_feedback(plan, scored, self._ranked(
                plan, text, terms, matching(), near=False), text)
            result, found = self._lifted(scored, per_page, offset)
        else:
            result = self.searcher.search(matching(), per_page, count=True, offset=offset,
                                          order_by_field=SORT_FIELDS[sort],
                                          order=tantivy.Order.Desc)
            found = result.hits
        total = result.count
        addresses = [address for _, address in found] if offset < total else []
        ids = self.searcher.fast_field_values("id", addresses) if addresses else []
        hits = [SearchHit(id=int(listing_id), score=float(key) if sort == "relevance" else None)
                for listing_id, (key, _) in zip(ids, found)]
        if hits and not plan.empty:
            highlight(self.searcher, plan, hits, addresses)
        return SearchResult(hits=hits, total=total, facets=self._facets(filters, matching))

    def _lifted(self, scored: Query, limit: int, offset: int, count: bool = True
                ) -> tuple[tantivy.SearchResult, list[tuple[float, tantivy.DocAddress]]]:
        """The search's result and its (score, address) hits ``offset`` to ``offset +
        limit``, popularity lifting each text score and not its tiers. tantivy
        multiplies the whole score by the listing's lift (``log2(2 + lift)``, 1.0 to
        1.3), tiers and all, so within a tier (every term matched, say) popularity
        outweighed any text (10,000 x 0.05 beside text scores of tens); the first
        ``LIFT_WINDOW`` are put in order again by tiers + text x lift, taken apart from
        the score it gave (every tier is a multiple of ``TIER_UNIT``, and a text score
        far less), in whole pages, so that every page still shows a listing once. Further
        pages keep tantivy's order."""
        window = limit * -(-LIFT_WINDOW // limit)
        if offset + limit > window:
            result = self.searcher.search(scored, limit, count=count, offset=offset,
                                          weight_by_field="lift")
            return result, result.hits
        result = self.searcher.search(scored, window, count=count, weight_by_field="lift")
        lifts = self.searcher.fast_field_values("lift", [address for _, address in result.hits])
        return result, text_lifted(result.hits, lifts, TIER_UNIT)[offset:offset + limit]

    def _with_feedback(self, plan: QueryPlan, scored: Query, first: Query, text: Query
                       ) -> Query:
        """``scored``, plus what the best few matches of ``first`` say about the search
        (pseudo-relevance feedback, at FEEDBACK_WEIGHT): listings that say what the best
        matches say, and listings in the category most of them are in
        (``search.category_feedback``), rank higher. Only the matches' order changes."""
        voters = max(FEEDBACK_DOCS, CATEGORY_VOTERS)
        _, top = self._lifted(first, voters, 0, count=False)
        if len(top) < 2:
            return scored
        own = {token for term in plan.terms for alt in term.alternatives
               for token in self.backend.tokens(alt)}
        counts: dict[str, int] = {}
        categories = []
        speakers = top[:FEEDBACK_DOCS]
        for rank, (_, address) in enumerate(top):
            stored = self.searcher.doc(address)
            categories.append(stored.get_first("category_name"))
            if rank >= len(speakers):
                continue
            for token in set(self.backend.english.analyze(indexed_text(stored))):
                if token not in own and len(token) > 2 and not token.isdigit():
                    counts[token] = counts.get(token, 0) + 1
        total = max(self.searcher.num_docs, 1)
        weighted = []
        for token, n in counts.items():
            if n < 2:
                continue
            df = self.searcher.doc_freq("all_text", token)
            weighted.append((n / len(speakers) * idf(df, total), token))
        weighted.sort(reverse=True)
        extra = [Query.boost_query(Query.term_query(self.schema, "all_text", token),
                                   FEEDBACK_WEIGHT) for _, token in weighted[:FEEDBACK_WORDS]]
        # A listing in a category of the best matches: its text score once more,
        # times the weight of the category's share (text x (1 + weight x share)).
        extra += [Query.boost_query(all_of([text, constant(Query.term_query(
                      self.schema, "category_name", category))]), lift(share) - 1.0)
                  for category, share in category_shares(categories).items()]
        if not extra:
            return scored
        return Query.boolean_query([(Occur.Must, scored)] + [(Occur.Should, q) for q in extra])

    def _ranked(self, plan: QueryPlan, text: Query, terms: list[Query], matching: Query,
                near: bool = True) -> Query:
        """The matches, scored: text relevance, plus the tiers (an exact name, as typed twice;
        a name starting with the query, "my sql" too; the name the query is with its last
        word finished, "serv": "Serve"; the query's words in a name, in order; every term
        matched) and (``near``) neighbouring words found close together (popularity's
        lift is under 2)."""
        schema = self.schema
        extra = [constant(Query.term_set_query(schema, "name_key", keys), EXACT_NAME_BOOST)
                 for keys in (plan.name_keys, plan.typed_name_keys[:1])] + [
            constant(Query.regex_query(schema, "name_key", key + " .*"), NAME_PREFIX_BOOST)
            for key in plan.typed_name_keys] + [
            constant(Query.regex_query(schema, "name_key", key + "[^ ]+"), COMPLETED_NAME_BOOST)
            for key in plan.typed_name_keys[:1]]
        if terms:
            # Every term in what the listing says it is, not only in a long description.
            asked = plan.in_summary()
            summary = [query for n in range(len(plan.terms))
                       if (query := self.backend.term_query(asked, n, only=SUMMARY_FIELDS))]
            if len(summary) == len(terms):
                extra.append(constant(all_of(summary), ALL_TERMS_BOOST))
        name = self.backend.tokens(plan.words)  # "safer buffers" in "safer-buffer"
        if len(name) > 1:
            extra.append(constant(Query.phrase_query(schema, "name", name), NAME_PHRASE_BOOST))
        for first, second in plan.pairs if near else ():
            tokens = self.backend.tokens((first, second))
            if len(tokens) == 2:
                extra += [Query.phrase_query(schema, field, tokens, slop=NEAR_SLOP)
                          for field in NEAR_FIELDS]
        return Query.boolean_query([(Occur.Must, matching), (Occur.Should, text)]
                                   + [(Occur.Should, query) for query in extra])

    def _facets(self, filters: dict[str, Query], matching) -> dict[str, list[FacetValue]]:
        """Every facet's counts, each ignoring its own filter: one aggregation per
        distinct set of filters."""
        def own(facet: str) -> str | None:
            return facet if facet in filters else None

        aggregations = {
            "category": {"terms": {"field": "category_slug", "size": MAX_BUCKETS}},
            "pricing": {"terms": {"field": "is_free"}},
            "has_trial": {"terms": {"field": "has_trial"}},
            "read_only": {"terms": {"field": "write_access"}},
            "min_rating": {"range": {"field": "rating_average", "ranges": [
                {"from": 1.0, "to": 2.0}, {"from": 2.0, "to": 3.0}, {"from": 3.0, "to": 4.0},
                {"from": 4.0}]}},
            "badges": {"terms": {"field": "badges", "size": MAX_BUCKETS}},
            "regions": {"terms": {"field": "regions", "size": MAX_BUCKETS}},
        }
        groups: dict[str | None, list[str]] = {}
        for facet in FACETS:
            groups.setdefault(own(facet), []).append(facet)
        answers: dict[str, dict] = {}
        for without, facets in groups.items():
            answer = self.searcher.aggregate(matching(without),
                                             {facet: aggregations[facet] for facet in facets})
            answers.update({facet: answer.get(facet) or {} for facet in facets})

        counts: dict[str, dict[str, int]] = {}
        for facet in ("category", "badges", "regions"):
            counts[facet] = {str(b["key"]): int(b["doc_count"])
                             for b in answers[facet].get("buckets", [])}
        flags = {facet: {b.get("key_as_string", str(b["key"])): int(b["doc_count"])
                         for b in answers[facet].get("buckets", [])}
                 for facet in ("pricing", "has_trial", "read_only")}
        counts["pricing"] = {"free": flags["pricing"].get("true", 0),
                             "paid": flags["pricing"].get("false", 0)}
        counts["has_trial"] = {"true": flags["has_trial"].get("true", 0)}
        counts["read_only"] = {"true": flags["read_only"].get("false", 0)}
        in_range = [int(b["doc_count"]) for b in sorted(
            answers["min_rating"].get("buckets", []), key=lambda b: b.get("from") or 0.0)
            if b.get("from") is not None]
        counts["min_rating"] = {str(stars): sum(in_range[stars - 1:]) for stars in RATING_STEPS}
        return {name: [FacetValue(value=value, count=count) for value, count in
                       sorted(counts[name].items(), key=lambda vc: (-vc[1], vc[0])) if count > 0]
                for name in FACETS}


class TantivyWords(IndexWords):
    """The local index's words, for spelling correction (``fts_spelling.IndexWords``)."""

    def __init__(self, backend: TantivyBackend, searcher: tantivy.Searcher):
        self.backend = backend
        self.searcher = searcher

    def _together(self, queries: list[Query | None]) -> int:
        """The listings every one of ``queries`` matches (none if one matches nothing)."""
        if not queries or None in queries:
            return 0
        return self.searcher.search(all_of(queries), 1).count

    def count_together(self, words: Sequence[str], cap: int) -> int:
        return min(self._together([self.backend.words_query((word,)) for word in words]), cap)

    def name_starts(self, word: str) -> bool:
        return self.searcher.search(self.backend.prefix_query(word), 1).count > 0

    def a_name_has(self, words: Sequence[str]) -> bool:
        return self._together([self.backend.name_word_query(word) for word in words]) > 0

    def vocabulary(self) -> Iterable[str]:
        return (word for word, _ in self.searcher.terms_with_prefix("words", "")
                if 3 <= len(word) <= 60 and not word.isdigit())
