"""The embedded search backend: a local tantivy index in a directory.

It is the default when no OpenSearch is configured, and the fallback when OpenSearch is
down. tantivy (the Rust engine, through its Python bindings) scores only the best matches
of a query (block-max WAND) and counts facets from columnar fields, so a common word in
80,000 of 100,000 listings costs a few milliseconds; the database's own full-text index
(``search.fts``) scores and groups every match (see docs/search.md).

One directory per host: the web processes read it, and whoever applies the search outbox
writes it (one applier per target at a time, by the outbox's lease). A write commits and
closes tantivy's writer, so its lock is held only while writing; readers see whole commits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import tantivy

from search import fts_text
from search.analysis import QueryPlan, Synonyms
from search.category_feedback import CATEGORY_VOTERS, category_shares, lift
from search.correction import plan_of, run_plan
from search.fts_spelling import IndexWords, Speller
from search.fts_text import name_key, words_of
from search.interfaces import (
    FacetValue,
    SearchHit,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    Suggestion,
)
from search.tantivy_highlights import highlight
from search.tantivy_queries import all_of, any_of, constant, idf, misspelt_name_query
from search.tantivy_schema import (
    ENGLISH,
    LAYOUT_VERSION,
    PLAIN,
    SUMMARY_FIELDS,
    TEXT_FIELDS,
    build_schema,
    english_analyzer,
    indexed_text,
    plain_analyzer,
    shown,
    text_lifted,
    to_entry,
)

Occur, Query = tantivy.Occur, tantivy.Query

MAX_PER_PAGE = 100
MAX_SUGGESTIONS = 50
FACETS = ("category", "pricing", "has_trial", "min_rating", "badges", "regions", "read_only")
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
PREFIX_WEIGHT = TEXT_FIELDS["name"]
NEAR_SLOP = 2
NEAR_FIELDS = ("name", "tagline", "body")
# Memory for the writer's buffer: tantivy needs at least 15 MB per thread.
WRITER_HEAP = 64_000_000
REBUILD_HEAP = 256_000_000
PROGRESS_EVERY = 1000

SORT_FIELDS = {"rating": "sort_rating", "installs": "sort_installs", "updated": "sort_updated",
               "newest": "sort_published"}


# Pseudo-relevance feedback: words most of the best FEEDBACK_DOCS matches share (at most
# FEEDBACK_WORDS, each in two of them or more) lift the matches that have them too, never
# adding any. Tuned on bench/relevance: topical P@10 +0.025 (30 words no better than 10).
FEEDBACK_DOCS = 5
FEEDBACK_WORDS = 10
FEEDBACK_WEIGHT = 2.0


class TantivyBackend:
    """The search index in a local directory (``SEARCH_INDEX_DIR``)."""

    name = "embedded"

    def __init__(self, directory: str | Path, synonyms: Callable[[], Synonyms] | None = None):
        """``synonyms``: gives the synonym list in force (``search.synonyms``)."""
        self.directory = Path(directory) / f"v{LAYOUT_VERSION}"
        self.synonyms = synonyms
        self.schema = build_schema()
        self.english = english_analyzer()
        self.plain = plain_analyzer()
        self.speller = Speller()
        self._index: tantivy.Index | None = None
        self._lock = threading.Lock()

    # --- the index ---------------------------------------------------------------

    def _open(self) -> tantivy.Index:
        with self._lock:
            if self._index is None:
                try:
                    self.directory.mkdir(parents=True, exist_ok=True)
                    index = tantivy.Index(self.schema, path=str(self.directory))
                except (OSError, ValueError) as error:
                    raise SearchUnavailable(
                        f"local search index {self.directory}: {error}") from error
                index.register_tokenizer(ENGLISH, english_analyzer())
                index.register_tokenizer(PLAIN, plain_analyzer())
                self._index = index
            return self._index

    def _searcher(self) -> tantivy.Searcher:
        index = self._open()
        try:
            index.reload()  # another process may have committed (0.2 ms when not)
            return index.searcher()
        except ValueError as error:
            raise SearchUnavailable(f"local search index {self.directory}: {error}") from error

    @contextmanager
    def _writer(self, heap: int = WRITER_HEAP, threads: int = 1) -> Iterator[tantivy.IndexWriter]:
        """tantivy's writer, committed at the end (rolled back on an error) and
        closed, which frees the index's lock for the next writer."""
        index = self._open()
        try:
            writer = index.writer(heap_size=heap, num_threads=threads)
        except ValueError as error:  # another writer holds the lock, or no space
            raise SearchUnavailable(f"local search index {self.directory}: {error}") from error
        try:
            try:
                yield writer
                writer.commit()
            except ValueError as error:
                writer.rollback()
                raise SearchUnavailable(
                    f"local search index {self.directory}: {error}") from error
            except BaseException:
                writer.rollback()
                raise
        finally:
            writer.wait_merging_threads()
            self.speller.vocabulary.forget()
        index.reload()

    # --- writing -----------------------------------------------------------------

    def index(self, documents: Sequence[dict], timeout: float | None = None) -> None:
        """Add or replace these documents (by ``id``), in one commit (``timeout``: remote)."""
        latest = {int(doc["id"]): doc for doc in documents}  # a repeated id: the last wins
        if not latest:
            return
        entries = {listing_id: to_entry(doc, self.schema) for listing_id, doc in latest.items()}
        with self._writer() as writer:
            for listing_id, entry in entries.items():
                writer.delete_documents_by_term("id", listing_id)
                writer.add_document(entry)

    def delete(self, listing_ids: Sequence[int], timeout: float | None = None) -> None:
        """Remove these listings; unknown ids are ignored."""
        ids = sorted({int(i) for i in listing_ids})
        if not ids:
            return
        with self._writer() as writer:
            for listing_id in ids:
                writer.delete_documents_by_term("id", listing_id)

    def rebuild(self, documents: Iterable[dict], total: int,
                progress: Callable[[int], None] | None = None) -> int:
        """Replace the whole index with ``documents`` in one commit: readers see
        the old index until it, then the new one."""
        done = 0
        seen: set[int] = set()
        with self._writer(REBUILD_HEAP, threads=2) as writer:
            writer.delete_all_documents()
            for doc in documents:
                listing_id = int(doc["id"])
                if listing_id in seen:
                    writer.delete_documents_by_term("id", listing_id)
                seen.add(listing_id)
                writer.add_document(to_entry(doc, self.schema))
                done += 1
                if progress is not None and done % PROGRESS_EVERY == 0:
                    progress(done)
        if progress is not None and done % PROGRESS_EVERY:
            progress(done)
        return len(seen)

    # --- reading -----------------------------------------------------------------

    def count(self) -> int:
        """How many documents the index holds."""
        return self._searcher().num_docs

    def ping(self) -> bool:
        """True when the index opens and answers (never raises)."""
        try:
            self._searcher()
            return True
        except Exception:  # noqa: BLE001  (ping reports, it never fails)
            return False

    def search(self, query: SearchQuery) -> SearchResult:
        """Run a query: text as literal words, filters, facets, one page of hits
        (spelling corrected and widened as ``search.correction.run_plan`` says)."""
        synonyms = self.synonyms() if self.synonyms else None
        plan = plan_of(query, synonyms)
        if plan is None:
            return SearchResult(hits=[], total=0, facets={name: [] for name in FACETS})
        try:
            return run_plan(_Run(self, self._searcher()), self.speller, plan, query, synonyms)
        except ValueError as error:
            raise SearchUnavailable(f"local search index {self.directory}: {error}") from error

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        """Names that start with ``prefix``, then names that do without spaces ("wifi":
        "Wi-Fi"), then names with a word that starts with it; each alphabetical. When
        none does, names with its words with a typo or two (``misspelt_name_query``)."""
        words = words_of(prefix)
        limit = min(int(limit), MAX_SUGGESTIONS)
        if not words or limit <= 0:
            return []
        key = name_key(words)  # without accents, as names' keys and words are kept
        words = key.split()
        searcher = self._searcher()
        starts = Query.regex_query(self.schema, "name_key", key + ".*")
        tiers = [starts]
        joined = fts_text.typed_run_together(key)
        if joined:
            tiers.append(Query.boolean_query([(Occur.MustNot, starts), (
                Occur.Must, Query.regex_query(self.schema, "name_key",
                                              fts_text.run_together_pattern(joined)))]))
        tiers.append(Query.boolean_query(
            [(Occur.Must, Query.term_query(self.schema, "name_words", word))
             for word in words[:-1]]
            + [(Occur.Must, Query.regex_query(self.schema, "name_words", words[-1] + ".*"))]
            + [(Occur.MustNot, tier) for tier in tiers]))
        found: list[Suggestion] = []
        for query in tiers:
            if len(found) >= limit:
                break
            found += self._names(searcher, query, limit - len(found))
        if not found and (misspelt := misspelt_name_query(self.schema, words)) is not None:
            found = self._names(searcher, misspelt, limit)
        return found

    def _names(self, searcher: tantivy.Searcher, query: Query, limit: int) -> list[Suggestion]:
        """The first ``limit`` names ``query`` finds, alphabetical."""
        result = searcher.search(query, limit, count=False, order_by_field="name_key",
                                 order=tantivy.Order.Asc)
        return [Suggestion(id=stored.get_first("id"), slug=stored.get_first("slug"),
                           name=shown(stored, "name"),
                           category=stored.get_first("category_name"))
                for stored in (searcher.doc(address) for _, address in result.hits)]

    # --- query building ----------------------------------------------------------

    def tokens(self, words: Sequence[str]) -> list[str]:
        """The index's stems of ``words``."""
        return self.english.analyze(" ".join(words))

    def words_query(self, words: Sequence[str], only: Sequence[str] = ()) -> Query | None:
        """A word or phrase in any text field, each field at its weight (or in the
        fields ``only``, unweighted)."""
        tokens = self.tokens(words)
        if not tokens:
            return None
        fields = (dict.fromkeys(only, 1.0) if only else
                  {field: weight for field, weight in TEXT_FIELDS.items() if weight})
        if len(tokens) == 1:
            parts = [Query.term_query(self.schema, field, tokens[0]) for field in fields]
        else:
            parts = [Query.phrase_query(self.schema, field, tokens) for field in fields]
        return any_of([Query.boost_query(part, weight)
                     for part, weight in zip(parts, fields.values())])

    def prefix_query(self, word: str) -> Query:
        """A word of some listing's name that starts with ``word`` (being typed)."""
        return Query.boost_query(constant(Query.regex_query(self.schema, "name_words",
                                                          word + ".*"), 1.0), PREFIX_WEIGHT)

    def name_word_query(self, word: str) -> Query | None:
        """A word of some listing's name that is ``word`` (lowercase, accents
        folded, as the names' words are indexed); None if it is not one word."""
        tokens = self.plain.analyze(word)
        return (Query.term_query(self.schema, "name_words", tokens[0]) if len(tokens) == 1
                else None)

    def listings_with(self, searcher: tantivy.Searcher, words: Sequence[str]) -> int:
        """About how many listings have ``words`` (a phrase: its rarest word)."""
        return min((searcher.doc_freq("all_text", token) for token in self.tokens(words)),
                   default=0)

    def term_query(self, plan: QueryPlan, position: int,
                   searcher: tantivy.Searcher | None = None, only: Sequence[str] = ()
                   ) -> Query | None:
        term = plan.terms[position]
        options = [self.words_query(alternative, only) for alternative in term.alternatives]
        if searcher is not None and len(options) > 1:
            # A rarer alternative (a synonym, a variant) would outscore the word
            # itself just for being rare: it scores with the word's IDF, as another
            # spelling of it. A commoner one keeps its own, lower IDF: "bill", which
            # many listings say in passing, must not make "invoices" count for less.
            # (A word in no listing, a typo, is scored as its commonest correction.)
            counts = [self.listings_with(searcher, alt) for alt in term.alternatives]
            common = counts[0] or max(counts)
            total = max(searcher.num_docs, 1)
            options = [option if option is None or not count or count >= common else
                       Query.boost_query(option, idf(common, total) / idf(count, total))
                       for option, count in zip(options, counts)]
        if position == len(plan.terms) - 1 and plan.prefix and term.single_word == plan.prefix:
            options.append(self.prefix_query(plan.prefix))
        options = [option for option in options if option is not None]
        if not options:
            return None
        # The best alternative counts, not their sum (a synonym is not a second match).
        return options[0] if len(options) == 1 else Query.disjunction_max_query(options)

    def text_query(self, plan: QueryPlan, searcher: tantivy.Searcher | None = None
                   ) -> tuple[Query | None, list[Query]]:
        """The match for the plan's terms (``plan.required`` of them, or every
        head term), and the terms' queries."""
        queries = {position: query for position in range(len(plan.terms))
                   if (query := self.term_query(plan, position, searcher)) is not None}
        terms = list(queries.values())
        if not terms:
            return None, []
        required = min(plan.required, len(terms))
        head = [queries[position] for position in plan.head if position in queries]
        if len(head) < len(plan.head):
            head = []  # a head term with no words the index knows: the ladder alone
        if required >= len(terms) and not head:
            return all_of(terms), terms
        # The head terms together count as the terms still missing (they score nothing).
        missing = max(required - len(head), 0) if head else 0
        clauses = terms + [constant(all_of(head))] * missing
        return Query.boolean_query([(Occur.Should, clause) for clause in clauses],
                                   minimum_number_should_match=required), terms

    def filters(self, query: SearchQuery) -> dict[str, Query]:
        schema, found = self.schema, {}
        if query.categories:
            found["category"] = Query.term_set_query(schema, "category_slug",
                                                     [str(c) for c in query.categories])
        if query.pricing in ("free", "paid"):
            found["pricing"] = Query.term_query(schema, "is_free", query.pricing == "free")
        if query.has_trial:
            found["has_trial"] = Query.term_query(schema, "has_trial", True)
        if query.min_rating is not None:
            found["min_rating"] = Query.range_query(schema, "rating_average",
                                                    tantivy.FieldType.Float,
                                                    float(query.min_rating), None)
        for name, values in (("badges", query.badges), ("regions", query.regions)):
            if values:
                found[name] = Query.term_set_query(schema, name, [str(v) for v in values])
        if query.read_only:
            found["read_only"] = Query.term_query(schema, "write_access", False)
        return found


class _Run:
    """One search's reads, on one searcher (``search.correction.PlanRunner``)."""

    def __init__(self, backend: TantivyBackend, searcher: tantivy.Searcher):
        self.backend = backend
        self.schema = backend.schema
        self.searcher = searcher
        self.words = _IndexWords(backend, searcher)

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


class _IndexWords(IndexWords):
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
