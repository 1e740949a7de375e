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
from search.correction import plan_of, run_plan
from search.fts_spelling import Speller
from search.fts_text import name_key, words_of
from search.interfaces import FACETS, SearchQuery, SearchResult, SearchUnavailable, Suggestion
from search.tantivy_queries import all_of, any_of, constant, idf, misspelt_name_query
from search.tantivy_run import TantivyRun
from search.tantivy_schema import (
    ENGLISH,
    LAYOUT_VERSION,
    PLAIN,
    TEXT_FIELDS,
    build_schema,
    english_analyzer,
    plain_analyzer,
    shown,
    to_entry,
)

Occur, Query = tantivy.Occur, tantivy.Query

MAX_SUGGESTIONS = 50
# A word of a name that starts with the word being typed weighs as the name field does.
PREFIX_WEIGHT = TEXT_FIELDS["name"]
# Memory for the writer's buffer: tantivy needs at least 15 MB per thread.
WRITER_HEAP = 64_000_000
REBUILD_HEAP = 256_000_000
PROGRESS_EVERY = 1000


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
            return run_plan(TantivyRun(self, self._searcher()), self.speller, plan, query, synonyms)
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
