"""The one rating score behind the "Top rated" shelf, the "rating" sort and the
derived "Top rated" badge (listings/ranking.py, docs/ranking.md)."""

from __future__ import annotations

from listings.ranking import (
    MIN_REVIEWS_ON_SHELF,
    earns_top_rated,
    rating_score,
)


def test_a_single_five_star_app_does_not_lead_one_with_forty_reviews_at_4_7():
    assert rating_score(5.0, 1) < rating_score(4.7, 40)


def test_more_reviews_at_the_same_average_score_higher_and_tend_to_the_average():
    assert rating_score(4.8, 3) < rating_score(4.8, 30) < rating_score(4.8, 3000) < 4.8
    assert abs(rating_score(4.8, 100_000) - 4.8) < 0.001


def test_an_app_without_reviews_scores_below_any_reviewed_app():
    assert rating_score(None, 0) == 0.0
    assert rating_score(0.0, 0) < rating_score(1.0, 1)


def test_the_shelf_needs_a_few_reviews():
    assert MIN_REVIEWS_ON_SHELF >= 3


def test_top_rated_badge_needs_ten_reviews_and_a_high_score():
    assert not earns_top_rated(None, 0)          # "No reviews yet" never wears it
    assert not earns_top_rated(5.0, 9)           # too few reviews, however good
    assert earns_top_rated(4.9, 40)
    assert not earns_top_rated(4.2, 400)         # many reviews, but not top
    assert earns_top_rated(4.7, 40) == (rating_score(4.7, 40) >= 4.5)
