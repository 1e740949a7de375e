"""The one rating score: what the "Top rated" shelf, the search "rating" sort and
the derived "Top rated" badge rank and judge by (docs/ranking.md).

A raw average lets one 5-star review beat forty reviews averaging 4.7. The
score is a Bayesian average: every app starts as if it had ``PRIOR_WEIGHT``
reviews at ``PRIOR_MEAN``, and its own reviews pull it away from there, so a
few reviews move it little and many reviews make it tend to the app's average:

    score = (PRIOR_WEIGHT * PRIOR_MEAN + sum of ratings) / (PRIOR_WEIGHT + number of ratings)

(the "true Bayesian estimate" IMDb published for its Top 250:
https://en.wikipedia.org/wiki/Bayesian_average).

The prior mean is a fixed figure, not the live catalog mean, on purpose: each
app's score then depends on its own reviews only, so a new review re-scores one
search document, not all of them, and the card, the shelf, the sort and the
badge agree without reading the whole catalog. 4.0 is about where app store
ratings gather; a catalog whose mean drifts far from it should change it here
(and reindex: ``flask search reindex``).
"""

from __future__ import annotations

PRIOR_MEAN = 4.0
PRIOR_WEIGHT = 5

# The "Top rated" shelf leaves out apps with fewer published reviews: two
# friendly reviews should not be enough to be put in front of every visitor.
MIN_REVIEWS_ON_SHELF = 3

# The derived "Top rated" badge (listings/badges.py): a score at least this high
# from at least this many published reviews.
TOP_RATED_MIN_SCORE = 4.5
TOP_RATED_MIN_REVIEWS = 10


def rating_score(average: float | None, count: int) -> float:
    """The Bayesian score of an app whose ``count`` published reviews average
    ``average``; 0.0 for an app without reviews, so it ranks after every rated app."""
    if not count or average is None:
        return 0.0
    return (PRIOR_WEIGHT * PRIOR_MEAN + float(average) * count) / (PRIOR_WEIGHT + count)


def earns_top_rated(average: float | None, count: int) -> bool:
    """Whether an app with these reviews wears the "Top rated" badge."""
    return count >= TOP_RATED_MIN_REVIEWS and rating_score(average, count) >= TOP_RATED_MIN_SCORE
