"""The local search index's highlights (tantivy): a hit's name and tagline with the
words the search matched marked, and its description as a snippet around them
(``search.highlights``), the words compared by the index's own analyzer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import tantivy

from search.analysis import QueryPlan
from search.highlights import FIELDS, marked, shown
from search.interfaces import SearchHit

if TYPE_CHECKING:
    from search.tantivy_backend import TantivyBackend


def highlight(backend: TantivyBackend, searcher: tantivy.Searcher, plan: QueryPlan,
              hits: list[SearchHit], addresses: list) -> None:
    """Fill each hit's highlights: name and tagline whole, the description as
    a snippet around the first match; only fields that matched."""
    wanted = {token for term in plan.terms for alternative in term.alternatives
              for token in backend.tokens(alternative)}
    stems: dict[str, str | None] = {}

    def matched(word: str) -> bool:
        lowered = word.lower()
        if lowered not in stems:
            tokens = backend.tokens((lowered,))
            stems[lowered] = tokens[0] if len(tokens) == 1 else None
        return stems[lowered] in wanted

    def typing(word: str) -> bool:
        # The word being typed marks name words it starts (accents folded).
        return " ".join(backend.plain.analyze(word.lower())).startswith(plan.prefix)

    for hit, address in zip(hits, addresses):
        stored = searcher.doc(address)
        for field in FIELDS:
            value = stored.get_first("body" if field == "description" else field) or ""
            highlighted = marked(value, matched,
                                 typing=typing if field == "name" and plan.prefix else None)
            if highlighted is not None:
                hit.highlights[field] = shown(field, highlighted)
