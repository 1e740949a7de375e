"""The local search index's highlights (tantivy): a hit's name and tagline with the
words the search matched marked, and its description as a snippet around them,
marked in Python from the stored text (``search.highlights``: the same English
stems as the index's analyzer, Snowball's)."""

from __future__ import annotations

import tantivy

from search.analysis import QueryPlan
from search.highlights import plan_highlighter
from search.interfaces import SearchHit
from search.tantivy_schema import SHOWN_FIELDS, shown


def highlight(searcher: tantivy.Searcher, plan: QueryPlan, hits: list[SearchHit],
              addresses: list) -> None:
    """Fill each hit's highlights: name and tagline whole, the description as
    a snippet around the first match; only fields that matched."""
    marker = plan_highlighter(plan)
    for hit, address in zip(hits, addresses):
        stored = searcher.doc(address)
        hit.highlights.update(marker.highlights(
            {field: shown(stored, field) for field in SHOWN_FIELDS}))
