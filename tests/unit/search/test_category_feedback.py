"""Category feedback's rule (search.category_feedback), apart from any backend."""

from __future__ import annotations

from search.category_feedback import category_shares, lift, reordered


def test_the_best_matches_vote_for_their_categories():
    assert category_shares(["games", "games", "tools", "games", None, "tools"]) == {
        "games": 3 / 4, "tools": 1 / 4}  # the first five; one has no category


def test_one_match_is_no_majority():
    assert category_shares(["games"]) == {}
    assert category_shares([None, None, "games"]) == {}
    assert reordered(["a", "b"], [0, 0], [1.0, 2.0], ["games", None]) == ["a", "b"]


def test_within_a_tier_the_shared_category_lifts_the_text_score():
    hits = ["tool", "game 1", "game 2", "game 3"]
    scores = [10.0, 9.0, 8.0, 5.0]
    order = reordered(hits, [0, 0, 0, 0], scores, ["tools", "games", "games", "games"])
    # games: 3/4 of the votes, x2.5; tools 1/4, x1.5: 9x2.5 > 8x2.5 > 10x1.5 > 5x2.5
    assert lift(0.75) == 2.5 and lift(0.25) == 1.5
    assert order == ["game 1", "game 2", "tool", "game 3"]


def test_tiers_keep_their_order_and_equal_scores_theirs():
    hits = ["exact name", "all terms, tool", "all terms, game", "some terms, game"]
    order = reordered(hits, [2, 1, 1, 0], [1.0, 30.0, 10.0, 99.0],
                      ["tools", "tools", "games", "games"])
    assert order == ["exact name", "all terms, tool", "all terms, game", "some terms, game"]
    assert reordered(["x", "y", "z"], [0, 0, 0], [1.0, 1.0, 1.0], ["a", "a", "a"]) == [
        "x", "y", "z"]
