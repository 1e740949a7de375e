"""Small builders of tantivy queries, for the local index (``search.tantivy_backend``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import tantivy

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
