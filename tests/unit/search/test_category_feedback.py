"""Category feedback's rule (search.category_feedback), apart from any backend."""

from __future__ import annotations

from search.category_feedback import category_shares, lift, reordered


def test_the_best_matches_vote_for_their_categories():
    # The first five vote; one has no category; a category with one vote gets nothing.
    assert category_shares(["games", "games", "tools", "games", None, "tools"]) == {
        "games": 3 / 4}
    assert category_shares(["games", "tools", "games", "tools", "apps"]) == {
        "games": 2 / 5, "tools": 2 / 5}


def test_one_match_is_no_majority():
    assert category_shares(["games"]) == {}
    assert category_shares([None, None, "games"]) == {}
    assert category_shares(["games", "tools", "apps", "maps", "docs"]) == {}
    assert reordered(["a", "b"], [0, 0], [1.0, 2.0], ["games", None]) == ["a", "b"]


def test_within_a_tier_the_shared_category_lifts_the_text_score():
    hits = ["tool", "game 1", "game 2", "game 3", "tool 2"]
    scores = [20.0, 9.0, 8.0, 5.0, 4.0]
    order = reordered(hits, [0] * 5, scores, ["tools", "games", "games", "games", "tools"])
    # games: 3/5 of the votes, x2.2; tools 2/5, x1.8: 20x1.8 > 9x2.2 > 8x2.2 > 5x2.2 > 4x1.8
    assert lift(0.6) == 2.2 and lift(0.4) == 1.8
    assert order == ["tool", "game 1", "game 2", "game 3", "tool 2"]
    # A category with one vote is not lifted: the tool (12) falls below 5 x 2.5.
    order = reordered(["tool", "game 1", "game 2", "game 3"], [0] * 4, [12.0, 9.0, 8.0, 5.0],
                      ["tools", "games", "games", "games"])
    assert order == ["game 1", "game 2", "game 3", "tool"]


def test_tiers_keep_their_order_and_equal_scores_theirs():
    hits = ["exact name", "all terms, tool", "all terms, game", "some terms, game"]
    order = reordered(hits, [2, 1, 1, 0], [1.0, 30.0, 10.0, 99.0],
                      ["tools", "tools", "games", "games"])
    assert order == ["exact name", "all terms, tool", "all terms, game", "some terms, game"]
    assert reordered(["x", "y", "z"], [0, 0, 0], [1.0, 1.0, 1.0], ["a", "a", "a"]) == [
        "x", "y", "z"]
