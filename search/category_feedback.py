"""Category feedback: the best matches of a search say which category it is about.

"games for the desktop" finds games, and desktop apps of every other kind that
mention a game once. Most of the five best matches are games: so listings in
the category the best matches share rank higher than listings that only share
the words. Each listing's text score is multiplied by ``1 + CATEGORY_WEIGHT x``
the share of the best ``CATEGORY_VOTERS`` matches that are in its category
(when at least two of them are).
Only the order changes, never what matches, and never across tiers: an exact
name stays first, and listings that match every term stay above those that
match some (``search.analysis``).

The same rule on both backends (tuned on ``bench/relevance``, docs/search.md):

- the local index adds it to its query, for every match
  (``search.tantivy_run``);
- OpenSearch and the database's index reorder their first ``CATEGORY_WINDOW``
  matches, which they send in the same answer with their categories, so a search
  is still one request (``search.opensearch``, ``search.fts``); later pages keep
  their order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TypeVar

CATEGORY_VOTERS = 5
CATEGORY_WEIGHT = 2.0
# The matches OpenSearch reorders: the first page of results (PAGE_SIZE).
CATEGORY_WINDOW = 24

T = TypeVar("T")


def category_shares(best_categories: Sequence[str | None]) -> dict[str, float]:
    """{category: share of the votes} of the best matches' categories (best first),
    for the categories at least two of them are in: one match is no majority (and
    on the local index each category is one more clause to score)."""
    voters = [category for category in best_categories[:CATEGORY_VOTERS] if category]
    if len(voters) < 2:
        return {}
    return {category: count / len(voters) for category, count in Counter(voters).items()
            if count >= 2}


def lift(share: float) -> float:
    """What a listing's text score is multiplied by, for its category's share."""
    return 1.0 + CATEGORY_WEIGHT * share


def reordered(hits: Sequence[T], tiers: Sequence[float], scores: Sequence[float],
              categories: Sequence[str | None]) -> list[T]:
    """``hits`` (best first) in category feedback's order. Each has a tier (higher
    first: an exact name, every term matched...), a text score (higher is better)
    and a category. Tiers keep their order; within one, text scores are lifted by
    their category's share of the best matches; equal ones keep their order."""
    shares = category_shares(categories)
    if not shares:
        return list(hits)

    def key(position: int) -> tuple[float, float, int]:
        share = shares.get(categories[position] or "", 0.0)
        return (-tiers[position], -scores[position] * lift(share), position)

    return [hits[position] for position in sorted(range(len(hits)), key=key)]
