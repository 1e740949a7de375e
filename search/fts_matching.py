"""The SQL of the embedded backend for "listings that match this query and these
filters", per dialect, from an analysed query (``search.analysis.QueryPlan``).

A term becomes an OR of its alternatives (each word quoted, each phrase quoted
whole, so user text is never query syntax). When every term is required the
text condition is the AND of the terms; otherwise it is their OR, and a
listing's *matched terms* (one lookup per term in the full-text index) must
reach ``plan.required``, or take in every head term (``QueryPlan.head``).
Results are then ranked by matched terms first.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from search.analysis import QueryPlan, Term
from search.fts_text import TS_CONFIG, fts5_literal, tsquery_literal
from search.interfaces import SearchQuery

# The FTS5 columns, in order; bm25() takes one weight per column.
FTS_COLUMNS = "name, tagline, body, tags_text, category, partner"
FTS_WEIGHTS = "3.0, 2.0, 1.0, 2.0, 1.5, 1.0"
# What a listing says it is: its name, tagline, tags and category (FTS5's columns;
# PostgreSQL's search vector has them as weights A, B and C, C with the partner's
# name), as against its description, which mentions a hundred things.
SUMMARY_COLUMNS = "{name tagline tags_text category}"
SUMMARY_WEIGHTS = "ABC"


def fts5_term(term: Term, prefix: str | None = None) -> str:
    """An FTS5 expression for one term: any of its alternatives; ``prefix``: also
    a word of the name that starts with it (the word being typed)."""
    parts = [fts5_literal(alternative) for alternative in term.alternatives]
    if prefix:
        parts.append(f"name : {fts5_literal((prefix,))} *")
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def tsquery_term(term: Term, prefix: str | None = None, weights: str = "") -> str:
    """A PostgreSQL ``to_tsquery`` input for one term (as ``fts5_term``), in the
    vector's parts of ``weights`` if given; the prefix matches lexemes of weight A
    (the name)."""
    parts = [tsquery_literal(alternative, weights) for alternative in term.alternatives]
    if prefix:
        parts.append(tsquery_literal((prefix,)) + ":*A")
    return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"


def fts5_near(pair: tuple[str, str]) -> str:
    """Two words at most two words apart, in either order."""
    return f"NEAR({fts5_literal(pair[:1])} {fts5_literal(pair[1:])}, 2)"


def tsquery_near(pair: tuple[str, str]) -> str:
    """Two words next to each other, or one word apart ("drag and drop")."""
    first, second = (tsquery_literal((word,)) for word in pair)
    return f"({first} <-> {second} | {first} <2> {second})"


class Matching:
    """The SQL for "documents that match this text and these filters": a FROM
    clause, WHERE conditions and their parameters, per dialect."""

    def __init__(self, dialect: str, plan: QueryPlan | None, query: SearchQuery):
        self.dialect = dialect
        self.plan = plan if plan is not None and not plan.empty else None
        self.params: dict = {}
        self.filters: dict[str, str] = {}
        self.partial = False  # fewer terms than all may match
        self.head: tuple[int, ...] = ()  # or all of these (QueryPlan.head)
        if self.plan is not None:
            self._add_text(self.plan)
        self._add_filters(query)

    @property
    def words(self) -> tuple[str, ...]:
        return self.plan.words if self.plan is not None else ()

    def _add_text(self, plan: QueryPlan) -> None:
        sqlite = self.dialect == "sqlite"
        build = fts5_term if sqlite else tsquery_term
        last = len(plan.terms) - 1
        in_summary = plan.in_summary()
        terms, summary = [], []
        for position, term in enumerate(plan.terms):
            # The word being typed may be the start of a name's word.
            prefix = (plan.prefix if position == last and term.single_word == plan.prefix
                      else None)
            terms.append(build(term, prefix))
            prefix = prefix if in_summary.prefix else None  # a word alone: finished
            summary.append(fts5_term(term, prefix) if sqlite
                           else tsquery_term(term, prefix, SUMMARY_WEIGHTS))
        # Every term in the name, tagline, tags or category (``summary_tier``).
        self._summary = (f"{SUMMARY_COLUMNS} : ({' AND '.join(summary)})" if sqlite
                         else " & ".join(summary))
        self.head = plan.head
        self.partial = plan.required < len(terms) or bool(self.head)
        joiner = (" OR " if sqlite else " | ") if self.partial else (" AND " if sqlite else " & ")
        expression = joiner.join(terms)
        if plan.pairs:
            # Neighbouring words found close together count once more in the
            # text score (a listing with both words has them anyway, so the
            # matches stay the same).
            near = [fts5_near(pair) if sqlite else tsquery_near(pair) for pair in plan.pairs]
            expression = f"({expression})" + "".join(
                (" OR " if sqlite else " | ") + part for part in near)
        self.params["match" if sqlite else "tsq"] = expression
        self.params["required"] = plan.required
        if self.partial:
            for position, expression in enumerate(terms):
                self.params[f"term{position}"] = expression
        self.term_count = len(terms)

    def matched_terms(self, positions: Sequence[int] | None = None) -> str:
        """How many of the query's terms (or of those at ``positions``) a
        document matches (SQL)."""
        if not self.partial:
            return str(self.term_count)
        if self.dialect == "sqlite":
            # Each IN list is computed once per statement (SQLite materializes an
            # uncorrelated subquery), then probed by rowid.
            each = ("(d.listing_id IN (SELECT rowid FROM search_fts "
                    "WHERE search_fts MATCH :term{}))")
        else:
            each = (f"(CASE WHEN d.search_vector @@ to_tsquery('{TS_CONFIG}', :term{{}}) "
                    "THEN 1 ELSE 0 END)")
        positions = range(self.term_count) if positions is None else positions
        return "(" + " + ".join(each.format(n) for n in positions) + ")"

    def summary_tier(self) -> tuple[str, dict]:
        """0 for a listing whose name, tagline, tags or category have every term of the
        query (``SUMMARY_COLUMNS``), else 1 (SQL, and its parameters): every word in
        what a listing says it is, not only somewhere in a long description (or, for a
        query of one word, in passing). 0 for all when the query has no term."""
        if self.term_count < 1:
            return "0", {}
        if self.dialect == "sqlite":
            found = ("d.listing_id IN (SELECT rowid FROM search_fts "
                     "WHERE search_fts MATCH :summary)")
        else:
            found = f"d.search_vector @@ to_tsquery('{TS_CONFIG}', :summary)"
        return f"CASE WHEN {found} THEN 0 ELSE 1 END", {"summary": self._summary}

    def name_phrase_tier(self) -> tuple[str, dict]:
        """0 for a listing whose name has the query's words one after the other, by
        their stems ("safer buffers" in "safer-buffer"), else 1 (SQL, and its
        parameters); 1 for all when the query has one word (its term says as much)."""
        words = self.words
        if len(words) < 2:
            return "1", {}
        if self.dialect == "sqlite":
            found = ("d.listing_id IN (SELECT rowid FROM search_fts "
                     "WHERE search_fts MATCH :name_phrase)")
            params = {"name_phrase": "name : " + fts5_literal(words)}
        else:
            found = f"d.search_vector @@ to_tsquery('{TS_CONFIG}', :name_phrase)"
            params = {"name_phrase": " <-> ".join(tsquery_literal((word,)) + ":A"
                                                  for word in words)}
        return f"CASE WHEN {found} THEN 0 ELSE 1 END", params

    def enough_terms(self) -> str:
        """The condition on matched terms (SQL): ``plan.required`` of them, or
        every head term."""
        enough = f"{self.matched_terms()} >= :required"
        if not self.head:
            return enough
        return f"({enough} OR {self.matched_terms(self.head)} = {len(self.head)})"

    def _add_filters(self, query: SearchQuery) -> None:
        if query.categories:
            self.filters["category"] = "d.category_slug IN :f_categories"
            self.params["f_categories"] = [str(c) for c in query.categories]
        if query.pricing in ("free", "paid"):
            self.filters["pricing"] = "d.is_free = :f_is_free"
            self.params["f_is_free"] = query.pricing == "free"
        if query.has_trial:
            self.filters["has_trial"] = "d.has_trial = :f_true"
            self.params["f_true"] = True
        if query.min_rating is not None:
            self.filters["min_rating"] = "d.rating_average >= :f_min_rating"
            self.params["f_min_rating"] = float(query.min_rating)
        for name, values in (("badges", query.badges), ("regions", query.regions)):
            if values:
                # IN, not a correlated EXISTS: the planner may then start from
                # the few listings with that badge instead of probing every row.
                self.filters[name] = (
                    f"d.listing_id IN (SELECT listing_id FROM search_terms "
                    f"WHERE field = '{name}' AND value IN :f_{name})")
                self.params[f"f_{name}"] = [str(v) for v in values]
        if query.read_only:
            self.filters["read_only"] = "d.write_access = :f_false"
            self.params["f_false"] = False

    def from_where(self, without: str | None = None, ranked: bool = False,
                   join: str = "", source: str | None = None, text_only: bool = False) -> str:
        """``FROM ... WHERE ...`` for the text and every filter but ``without``.

        ``ranked`` when the statement needs the text engine's score (or drives
        a ``join`` from the matches); ``source`` names a table of rows that
        already match the text (the filters still apply); ``text_only`` leaves
        every filter out."""
        if source:
            sql, conditions = f"FROM {source} d", []
        elif not self.words:
            sql, conditions = "FROM search_documents d", []
        elif self.dialect == "sqlite" and ranked:
            # bm25() needs search_fts in the FROM clause. CROSS JOIN keeps it the
            # outer loop: otherwise SQLite may walk a filter's index and probe
            # the full-text index once per row, 100 times slower.
            sql = "FROM search_fts CROSS JOIN search_documents d ON d.listing_id = search_fts.rowid"
            conditions = ["search_fts MATCH :match"]
        elif self.dialect == "sqlite":
            sql = "FROM search_documents d"
            conditions = ["d.listing_id IN "
                          "(SELECT rowid FROM search_fts WHERE search_fts MATCH :match)"]
        else:
            sql = "FROM search_documents d"
            conditions = [f"d.search_vector @@ to_tsquery('{TS_CONFIG}', :tsq)"]
        if self.words and not source and self.partial:
            conditions.append(self.enough_terms())
        if not text_only:
            conditions += [sql_ for name, sql_ in self.filters.items() if name != without]
        return sql + join + (" WHERE " + " AND ".join(conditions) if conditions else "")

    def narrows(self, without: str | None = None) -> bool:
        """Whether the text or a filter other than ``without`` limits the matches."""
        return bool(self.words) or any(name != without for name in self.filters)

    def statement(self, sql: str) -> sa.TextClause:
        """A text statement with this matching's list parameters expanded."""
        expanding = [sa.bindparam(name, expanding=True) for name in
                     ("f_categories", "f_badges", "f_regions", "ids", "keys") if f":{name}" in sql]
        return sa.text(sql).bindparams(*expanding)

    def score(self) -> str:
        """Text relevance times popularity; higher is better."""
        if self.dialect == "sqlite":
            # bm25() is negative, lower is better; its weights favour the name.
            return f"(-bm25(search_fts, {FTS_WEIGHTS}) * d.boost)"
        # Default weights {D, C, B, A} = {0.1, 0.2, 0.4, 1.0}.
        return f"(ts_rank_cd(d.search_vector, to_tsquery('{TS_CONFIG}', :tsq)) * d.boost)"
