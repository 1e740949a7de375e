"""Small builders of tantivy queries, for the local index (``search.tantivy_backend``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import tantivy

from search.fts_text import suggest_typo_edits

Occur, Query = tantivy.Occur, tantivy.Query


def idf(count: int, total: int) -> float:
    """BM25's inverse document frequency, as tantivy computes it."""
    return math.log(1.0 + (total - count + 0.5) / (count + 0.5))


def constant(query: Query, score: float = 0.0) -> Query:
    return Query.const_score_query(query, score)


def all_of(queries: Sequence[Query]) -> Query:
    return queries[0] if len(queries) == 1 else Query.boolean_query(
        [(Occur.Must, query) for query in queries])


def any_of(queries: Sequence[Query]) -> Query:
    return queries[0] if len(queries) == 1 else Query.boolean_query(
        [(Occur.Should, query) for query in queries])


def misspelt_name_query(schema: tantivy.Schema, words: Sequence[str]) -> Query | None:
    """Names with each of ``words`` (a ``name_key``'s) give or take the typos
    autocomplete forgives (``fts_text.suggest_typo_edits``), the last as the start of
    a word; None when no word is long enough to have one."""
    if not any(map(suggest_typo_edits, words)):
        return None
    parts = []
    for position, word in enumerate(words):
        last = position == len(words) - 1
        edits = suggest_typo_edits(word)
        if edits:
            parts.append(Query.fuzzy_term_query(schema, "name_words", word, distance=edits,
                                                prefix=last))
        elif last:
            parts.append(Query.regex_query(schema, "name_words", word + ".*"))
        else:
            parts.append(Query.term_query(schema, "name_words", word))
    return all_of(parts)
