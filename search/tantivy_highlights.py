"""The local search index's highlights (tantivy): a hit's name and tagline with the
words the search matched marked, and its description as a snippet around them, the
same markers as the database's index (``search.fts_text.mark``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import tantivy

from search.analysis import QueryPlan
from search.fts_text import MARK_END, MARK_START, WORD, mark, window
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

    def marked(text: str, prefix: str | None = None) -> str | None:
        found, pieces, last = False, [], 0
        for match in WORD.finditer(text):
            word = match.group()
            lowered = word.lower()
            if lowered not in stems:
                tokens = backend.tokens((lowered,))
                stems[lowered] = tokens[0] if len(tokens) == 1 else None
            # The word being typed marks name words it starts (accents folded).
            if stems[lowered] in wanted or (
                    prefix and " ".join(backend.plain.analyze(lowered)).startswith(prefix)):
                pieces += [text[last:match.start()], MARK_START, word, MARK_END]
                last, found = match.end(), True
        return "".join(pieces) + text[last:] if found else None

    for hit, address in zip(hits, addresses):
        stored = searcher.doc(address)
        for field, prefix in (("name", plan.prefix), ("tagline", None),
                              ("description", None)):
            value = stored.get_first("body" if field == "description" else field) or ""
            highlighted = marked(value, prefix)
            if highlighted is None:
                continue
            if field == "description":
                highlighted = window(highlighted)
            hit.highlights[field] = mark(highlighted)
