"""The embedded search backend: a full-text index inside the app's own database.

It is the default when no OpenSearch is configured and the fallback when
OpenSearch is down, so it needs nothing but the database Bazaar already has:

- SQLite: an FTS5 table (``search_fts``, porter stemming, prefix indexes) over
  the text columns of ``search_documents``;
  https://sqlite.org/fts5.html
- PostgreSQL: a weighted ``tsvector`` column (generated from the same text
  columns, 'bazaar_english' config: 'english' keeping stopwords, migration 0033)
  with a GIN index; no extensions.
  https://www.postgresql.org/docs/current/textsearch.html

Filters, facets, sorts and paging are the same SQL on both; only the text
match, its ranking and the highlighted snippets differ. The tables are made
by migration 0003. Every statement binds its values: user text only ever
reaches the text engine as quoted words, never as query syntax.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from search.analysis import QueryPlan, Synonyms
from search.category_feedback import CATEGORY_WINDOW, reordered
from search.correction import plan_of, run_plan
from search.fts_matching import FTS_COLUMNS, Matching
from search.fts_spelling import Speller, SqlIndexWords
from search.fts_tables import (
    document_row,
    documents_table,
    terms_of,
    terms_table,
    vocabulary_table,
    vocabulary_words,
)
from search.fts_text import (
    ELLIPSIS,
    MARK_END,
    MARK_START,
    SNIPPET_WORDS,
    SYMBOL_WORDS,
    TS_CONFIG,
    fts5_query,
    mark,
    name_key,
    tsquery,
    typed_run_together,
    window,
    words_of,
)
from search.interfaces import (
    FACETS,
    FacetValue,
    SearchHit,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    Suggestion,
)

BATCH_SIZE = 1000
MAX_PER_PAGE = 100
MAX_SUGGESTIONS = 50
RATING_STEPS = (4, 3, 2, 1)

# Larger than any character, so ``key <= x < key + _MAX_CHAR`` means "x starts with key".
_MAX_CHAR = "\U0010ffff"


def _ids_text(sql: str) -> sa.TextClause:
    """A text statement whose ``:ids`` is a list (expanded into IN (...))."""
    return sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))


# What the FTS5 table indexes of each column: its text with "C++", "C#" and "F#" spelt
# out (fts_text.SYMBOL_WORDS), as the other indexes and a query's words have them.
# SQLite has no regular expressions, so by replace(), also after a letter ("abc++"):
# each spelt word takes the place of the one letter the tokenizer read, so the words
# keep their places and highlight() marks the text as stored (migration 0032).
def _spelt(column: str) -> str:
    for written, spelt in SYMBOL_WORDS.items():
        for form in dict.fromkeys([written, written.upper()]):
            column = f"replace({column}, '{form}', '{spelt} ')"
    return column


FTS_VALUES = ", ".join(_spelt(column) for column in FTS_COLUMNS.split(", "))
# SQLite keeps an external-content FTS5 table in step by hand: rows are
# removed from the index with the 'delete' command and the exact values that
# were indexed, which are still in search_documents at that point.
# https://sqlite.org/fts5.html#the_delete_command
_FTS_REMOVE = _ids_text(
    f"INSERT INTO search_fts(search_fts, rowid, {FTS_COLUMNS}) "
    f"SELECT 'delete', listing_id, {FTS_VALUES} FROM search_documents WHERE listing_id IN :ids")
_FTS_ADD = _ids_text(
    f"INSERT INTO search_fts(rowid, {FTS_COLUMNS}) "
    f"SELECT listing_id, {FTS_VALUES} FROM search_documents WHERE listing_id IN :ids")
# highlight() marks the letter the tokenizer read of "C++": the mark takes in the rest.
_SYMBOL_MARKED = re.compile(f"{MARK_START}([cCfF]){MARK_END}(\\+\\+|#)")
_FTS_CLEAR = sa.text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
_ADD_WORD = sa.text("INSERT INTO search_vocabulary (word, initial) VALUES (:word, :initial) "
                    "ON CONFLICT DO NOTHING")


def _batches(items: Iterable[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class EmbeddedBackend:
    """The search index in the app's database (SQLite FTS5 or PostgreSQL)."""

    name = "embedded"

    def __init__(self, engine: Engine, synonyms: Callable[[], Synonyms] | None = None):
        """``synonyms``: gives the synonym list in force (``search.synonyms``)."""
        self.engine = engine
        self.dialect = engine.dialect.name
        self.synonyms = synonyms
        self.speller = Speller()

    # --- writing ---------------------------------------------------------------

    def index(self, documents: Sequence[dict], timeout: float | None = None) -> None:
        """Add or replace these documents (by ``id``), in one transaction (``timeout``
        is for remote indexes; this one is in the database)."""
        latest = {int(doc["id"]): doc for doc in documents}  # a repeated id: the last wins
        if not latest:
            return
        try:
            with self.engine.begin() as conn:
                for batch in _batches(latest.values(), BATCH_SIZE):
                    self._replace(conn, batch)
        except SQLAlchemyError as error:
            raise SearchUnavailable(f"embedded search index: {error}") from error
        finally:
            self.speller.vocabulary.forget()

    def delete(self, listing_ids: Sequence[int], timeout: float | None = None) -> None:
        """Remove these listings; unknown ids are ignored (``timeout``: see ``index``)."""
        ids = sorted({int(i) for i in listing_ids})
        try:
            with self.engine.begin() as conn:
                for start in range(0, len(ids), BATCH_SIZE):
                    self._remove(conn, ids[start:start + BATCH_SIZE])
        except SQLAlchemyError as error:
            raise SearchUnavailable(f"embedded search index: {error}") from error

    def rebuild(self, documents: Iterable[dict], total: int,
                progress: Callable[[int], None] | None = None) -> int:
        """Replace the whole index with ``documents`` in ONE transaction.

        Readers keep seeing the old index until the commit (SQLite WAL snapshots,
        PostgreSQL MVCC), so the switch is atomic. On SQLite the transaction holds
        the database's write lock meanwhile: other writers wait for it."""
        done = 0
        try:
            with self.engine.begin() as conn:
                if self.dialect == "sqlite":
                    conn.execute(_FTS_CLEAR)
                # DELETE, not TRUNCATE: TRUNCATE would lock PostgreSQL readers out.
                for table in (terms_table, documents_table, vocabulary_table):
                    conn.execute(table.delete())
                words_seen: set[str] = set()
                for batch in _batches(documents, BATCH_SIZE):
                    latest = list({int(doc["id"]): doc for doc in batch}.values())
                    done += self._replace(conn, latest, words_seen)
                    if progress is not None:
                        progress(done)
        except SQLAlchemyError as error:
            raise SearchUnavailable(f"embedded search index: {error}") from error
        finally:
            self.speller.vocabulary.forget()
        return done

    def _remove(self, conn: Connection, ids: list[int]) -> None:
        if not ids:
            return
        if self.dialect == "sqlite":
            conn.execute(_FTS_REMOVE, {"ids": ids})
        conn.execute(terms_table.delete().where(terms_table.c.listing_id.in_(ids)))
        conn.execute(documents_table.delete().where(documents_table.c.listing_id.in_(ids)))

    def _replace(self, conn: Connection, batch: list[dict],
                 words_seen: set[str] | None = None) -> int:
        """Delete then insert one batch of documents (ids unique in the batch)."""
        ids = [int(doc["id"]) for doc in batch]
        self._remove(conn, ids)
        conn.execute(documents_table.insert(), [document_row(doc) for doc in batch])
        term_rows = [row for doc in batch for row in terms_of(doc)]
        if term_rows:
            conn.execute(terms_table.insert(), term_rows)
        if self.dialect == "sqlite":
            conn.execute(_FTS_ADD, {"ids": ids})
        words = set().union(*(vocabulary_words(doc) for doc in batch))
        if words_seen is not None:
            words -= words_seen
            words_seen |= words
        if words:
            conn.execute(_ADD_WORD, [{"word": w, "initial": w[0]} for w in sorted(words)])
        return len(batch)

    # --- reading ---------------------------------------------------------------

    def count(self) -> int:
        """How many documents the index holds."""
        try:
            with self.engine.connect() as conn:
                statement = sa.select(sa.func.count()).select_from(documents_table)
                return conn.execute(statement).scalar_one()
        except SQLAlchemyError as error:
            raise SearchUnavailable(f"embedded search index: {error}") from error

    def ping(self) -> bool:
        """True when the index's table answers (never raises)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1 FROM search_documents LIMIT 1")).all()
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
            with self.engine.connect() as conn:
                return run_plan(_SqlRunner(self, conn), self.speller, plan, query, synonyms)
        except SQLAlchemyError as error:
            raise SearchUnavailable(f"embedded search index: {error}") from error

    def _run_once(self, conn: Connection, plan: QueryPlan, query: SearchQuery) -> SearchResult:
        matching = Matching(self.dialect, plan, query)
        facets, total = self._facets(conn, matching)
        hits = self._hits(conn, matching, query, total)
        if matching.words and hits:
            self._highlight(conn, matching, hits)
        return SearchResult(hits=hits, total=total, facets=facets)

    def _hits(self, conn: Connection, matching: Matching, query: SearchQuery,
              total: int) -> list[SearchHit]:
        per_page = min(max(int(query.per_page), 1), MAX_PER_PAGE)
        offset = (max(int(query.page), 1) - 1) * per_page
        if offset >= total:
            return []  # a page beyond the last: empty, not an error
        params = dict(matching.params, limit=per_page, offset=offset)
        score = "NULL"
        tiers = ""
        sort = query.sort
        if sort == "relevance" and not matching.words:
            sort = "newest"
        if sort == "rating":
            order = "d.rating_score DESC, d.rating_count DESC"
        elif sort == "installs":
            order = "d.installs DESC"
        elif sort == "updated":
            order = "d.updated_at DESC NULLS LAST"
        elif sort == "newest" or not matching.words:
            order = "d.published_at DESC NULLS LAST"
        else:
            # An exact name first (as typed or as corrected), then names that
            # start with the query's words, then the listings whose name, tagline, tags
            # or category have every term of the query (``Matching.summary_tier``: a
            # long description has them all more often than it is about them), then
            # those whose name has the query's words in order
            # ("safer buffers": "safer-buffer"), then text relevance (lifted a little
            # by popularity).
            # A name "starts with the query" with the words as typed or two of them run
            # together ("my sql": "MySQL Backup"), as the exact-name tier takes either.
            score = f"{matching.score()} AS score"
            plan = matching.plan  # there are words, so there is a plan
            starts = plan.typed_name_keys
            params.update(keys=plan.name_keys, as_typed=starts[0] if starts else "",
                          **{f"start_{n}": key + " " for n, key in enumerate(starts)})
            starts_with = " OR ".join(f"substr(d.name_key, 1, {len(key) + 1}) = :start_{n}"
                                      for n, key in enumerate(starts)) or "1 = 0"
            # The name the query is with its last word finished ("serv": "Serve"), as
            # when Enter was pressed before the word was: after the names that start
            # with the query's whole words.
            phrase_tier, phrase_params = matching.name_phrase_tier()
            summary_tier, summary_params = matching.summary_tier()
            params.update(phrase_params, **summary_params)
            typed = len(starts[0]) if starts else 0
            completes = (f"substr(d.name_key, 1, {typed}) = :as_typed AND length(d.name_key) "
                         f"> {typed} AND substr(d.name_key, {typed + 1}) NOT LIKE '% %'"
                         if typed else "1 = 0")
            # The name as typed before a name that is its words run together ("pascal
            # case": "pascal-case" before "pascalcase"), though both are exact.
            tiers = (f"CASE WHEN d.name_key = :as_typed THEN 0 WHEN d.name_key IN :keys "
                     f"THEN 1 WHEN {starts_with} THEN 2 WHEN {completes} THEN 3 "
                     f"ELSE 4 END AS name_tier, {summary_tier} AS terms_tier, {phrase_tier} "
                     "AS phrase_tier, d.category_slug, ")
            order = "name_tier, terms_tier, phrase_tier, score DESC"
        ranked = score != "NULL"
        if not ranked:
            score = "NULL AS score"
        # Category feedback reorders the first matches (search.category_feedback):
        # they are all read, from the first, with their tiers and categories.
        reorder = ranked and offset < CATEGORY_WINDOW
        if reorder:
            params.update(limit=max(offset + per_page, CATEGORY_WINDOW), offset=0)
        sql = (f"SELECT d.listing_id, {tiers}{score} {matching.from_where(ranked=ranked)} "
               f"ORDER BY {order}, d.listing_id DESC LIMIT :limit OFFSET :offset")
        rows = conn.execute(matching.statement(sql), params).all()
        hits = [SearchHit(id=row[0], score=None if row[-1] is None else float(row[-1]))
                for row in rows]
        if reorder:
            hits = reordered(hits, [-(row[1] * 4 + row[2] * 2 + row[3]) for row in rows],
                             [hit.score or 0.0 for hit in hits], [row[4] for row in rows])
            hits = hits[offset:offset + per_page]
        return hits

    def _facets(self, conn: Connection, matching: Matching) -> tuple[dict, int]:
        """Every facet's counts (each ignoring its own filter) and the total, in
        one statement.

        A facet whose own filter is not in use counts over the same matches as
        the total, so the work is shared: one part per distinct set of matches
        groups by category and sums the single-valued facets, another counts
        the badges and regions terms. With text, the matches are found once
        (a materialized CTE) and every part reads them from there."""
        def own(facet: str) -> str | None:
            return facet if facet in matching.filters else None

        source = "m" if matching.words else None
        ratings = ", ".join(f"SUM(CASE WHEN d.rating_average >= {stars} THEN 1 ELSE 0 END)"
                            for stars in RATING_STEPS)
        zeros = ", ".join(["0"] * (3 + len(RATING_STEPS)))
        parts: list[str] = []
        params = dict(matching.params)
        expanding = []
        # Part labels are ours ("g0", "t1"): which rows belong to which set.
        grouped = {without: f"g{n}" for n, without in enumerate(dict.fromkeys(
            own(facet) for facet in (None, "pricing", "has_trial", "read_only", "min_rating",
                                     "category")))}
        for without, label in grouped.items():
            parts.append(
                f"SELECT '{label}', d.category_slug, '', COUNT(*), "
                "SUM(CASE WHEN d.is_free THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN d.has_trial THEN 1 ELSE 0 END), "
                f"SUM(CASE WHEN d.write_access THEN 0 ELSE 1 END), {ratings} "
                f"{matching.from_where(without, source=source)} GROUP BY d.category_slug")
        term_fields: dict[str | None, list[str]] = {}
        for facet in ("badges", "regions"):
            term_fields.setdefault(own(facet), []).append(facet)
        terms = {without: f"t{n}" for n, without in enumerate(term_fields)}
        for without, label in terms.items():
            params[f"fields_{label}"] = term_fields[without]
            expanding.append(sa.bindparam(f"fields_{label}", expanding=True))
            if matching.narrows(without):
                # Driven from the matches: each looks up its few terms by primary
                # key (SQLite's CROSS JOIN fixes that order; PostgreSQL plans it).
                join = (f" {'CROSS JOIN' if self.dialect == 'sqlite' else 'JOIN'} search_terms t "
                        f"ON t.listing_id = d.listing_id AND t.field IN :fields_{label}")
                where = matching.from_where(without, ranked=True, join=join, source=source)
            else:
                where = f"FROM search_terms t WHERE t.field IN :fields_{label}"
            parts.append(f"SELECT '{label}', t.field, t.value, COUNT(*), {zeros} {where} "
                         "GROUP BY t.field, t.value")
        sql = " UNION ALL ".join(parts)
        if source:
            sql = ("WITH m AS MATERIALIZED (SELECT d.listing_id, d.category_slug, d.is_free, "
                   "d.has_trial, d.write_access, d.rating_average "
                   f"{matching.from_where(text_only=True)}) {sql}")
        rows = conn.execute(matching.statement(sql).bindparams(*expanding), params).all()

        by_label: dict[str, list[tuple]] = {}
        for row in rows:
            by_label.setdefault(row[0], []).append(row[1:])

        def summed(without: str | None) -> list[int]:
            columns = list(zip(*by_label.get(grouped[without], [])))[2:]
            return [int(sum(column)) for column in columns] or [0] * (4 + len(RATING_STEPS))

        counts: dict[str, dict[str, int]] = {}
        total = summed(None)[0]
        everything, free = summed(own("pricing"))[:2]
        counts["pricing"] = {"free": free, "paid": everything - free}
        counts["has_trial"] = {"true": summed(own("has_trial"))[2]}
        counts["read_only"] = {"true": summed(own("read_only"))[3]}
        ratings_counts = summed(own("min_rating"))[4:]
        counts["min_rating"] = {str(stars): n for stars, n in zip(RATING_STEPS, ratings_counts)}
        counts["category"] = {row[0]: int(row[2])
                              for row in by_label.get(grouped[own("category")], [])}
        counts["badges"], counts["regions"] = {}, {}
        for label in terms.values():
            for field, value, count, *_ in by_label.get(label, []):
                counts[field][value] = int(count)

        facets = {
            name: [FacetValue(value=str(value), count=int(count))
                   for value, count in sorted(counts[name].items(), key=lambda vc: (-vc[1], vc[0]))
                   if count > 0]
            for name in FACETS
        }
        return facets, total

    def _highlight(self, conn: Connection, matching: Matching, hits: list[SearchHit]) -> None:
        """Fill each hit's highlights: name and tagline whole, the description as
        a snippet around the first match; only fields that matched."""
        params = dict(matching.params, ids=[hit.id for hit in hits])
        if self.dialect == "sqlite":
            sql = ("SELECT search_fts.rowid, highlight(search_fts, 0, char(2), char(3)), "
                   "highlight(search_fts, 1, char(2), char(3)), "
                   f"snippet(search_fts, 2, char(2), char(3), '{ELLIPSIS}', {SNIPPET_WORDS}) "
                   "FROM search_fts WHERE search_fts MATCH :match AND +search_fts.rowid IN :ids")
            # The unary + keeps "rowid IN" away from FTS5: otherwise it re-runs the
            # match once per id, several times slower than one pass over the matches.
        else:
            params["headline"] = f"StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true"
            headline = (f"ts_headline('{TS_CONFIG}', d.{{}}, to_tsquery('{TS_CONFIG}', :tsq), "
                        ":headline)")
            sql = (f"SELECT d.listing_id, {headline.format('name')}, "
                   f"{headline.format('tagline')}, {headline.format('body')} "
                   "FROM search_documents d WHERE d.listing_id IN :ids")
        by_id = {hit.id: hit for hit in hits}
        for listing_id, name, tagline, description in conn.execute(matching.statement(sql), params):
            if self.dialect != "sqlite" and description and MARK_START in description:
                description = window(description)
            for field, value in (("name", name), ("tagline", tagline),
                                 ("description", description)):
                if value and MARK_START in value:
                    value = _SYMBOL_MARKED.sub(f"{MARK_START}\\1\\2{MARK_END}", value)
                    by_id[listing_id].highlights[field] = mark(value)

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        """Names that start with ``prefix`` (alphabetical), then names that start
        with it once their words run together ("wifi" for "Wi-Fi"), then names with
        a word that starts with it (alphabetical), at most ``limit``."""
        words = words_of(prefix)
        limit = min(int(limit), MAX_SUGGESTIONS)
        if not words or limit <= 0:
            return []
        key = name_key(words)  # names' keys are kept without accents
        joined = typed_run_together(key) or ""  # "": typed too far to compare so
        columns = "d.listing_id, d.slug, d.name, d.category"
        if self.dialect == "sqlite":
            conditions = ["d.name_key >= :key AND d.name_key < :key_end",
                          "d.name_run_together >= :joined AND d.name_run_together < :joined_end"]
            params = {"key": key, "key_end": key + _MAX_CHAR,
                      "joined": joined, "joined_end": joined + _MAX_CHAR,
                      "match": "name : (" + fts5_query(words, prefix_column=None) + ")"}
            # CROSS JOIN: the full-text matches drive (see Matching.from_where).
            by_word = ("FROM search_fts CROSS JOIN search_documents d "
                       "ON d.listing_id = search_fts.rowid WHERE search_fts MATCH :match")
        else:
            # name_key holds letters, digits and spaces only: no LIKE wildcards.
            conditions = ["d.name_key LIKE :key_like", "d.name_run_together LIKE :joined_like"]
            params = {"key_like": key + "%", "joined_like": joined + "%",
                      "tsq": tsquery(words, prefix_weight=None)}
            by_word = ("FROM search_documents d WHERE "
                       "to_tsvector('simple', d.name) @@ to_tsquery('simple', :tsq)")
        conditions = conditions if joined else conditions[:1]
        # Each tier leaves out what the ones before it found.
        tiers = [f"FROM search_documents d WHERE {condition}" + "".join(
            f" AND NOT ({before})" for before in conditions[:n])
            for n, condition in enumerate(conditions)]
        tiers.append(by_word + "".join(f" AND NOT ({before})" for before in conditions))
        rows: list = []
        try:
            with self.engine.connect() as conn:
                for tier in tiers:
                    if len(rows) >= limit:
                        break
                    rows += conn.execute(sa.text(
                        f"SELECT {columns} {tier} ORDER BY d.name_key, d.listing_id LIMIT :limit"),
                        dict(params, limit=limit - len(rows))).all()
        except SQLAlchemyError as error:
            raise SearchUnavailable(f"embedded search index: {error}") from error
        return [Suggestion(id=row[0], slug=row[1], name=row[2], category=row[3]) for row in rows]


class _SqlRunner:
    """The database index's side of ``search.correction.run_plan``, on one connection."""

    def __init__(self, backend: EmbeddedBackend, conn: Connection):
        self.backend = backend
        self.conn = conn
        self.words = SqlIndexWords(conn, backend.dialect)

    def run_once(self, plan: QueryPlan, query: SearchQuery) -> SearchResult:
        return self.backend._run_once(self.conn, plan, query)

    def is_name(self, plan: QueryPlan) -> bool:
        keys = plan.name_keys
        return bool(keys) and self.conn.execute(
            sa.text("SELECT 1 FROM search_documents WHERE name_key IN :keys LIMIT 1")
            .bindparams(sa.bindparam("keys", expanding=True)),
            {"keys": keys}).first() is not None

    def finds_any(self, plan: QueryPlan, query: SearchQuery) -> bool:
        matching = Matching(self.backend.dialect, plan, query)
        sql = f"SELECT 1 {matching.from_where()} LIMIT 1"
        return self.conn.execute(matching.statement(sql), matching.params).first() is not None
