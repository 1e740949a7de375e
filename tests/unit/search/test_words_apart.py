"""A word typed run together, split into two words some listings have
(search.fts_spelling: the rule both kinds of index follow)."""

import pytest

from search.fts_spelling import MAX_SPLIT_LENGTH, best_split, splits

COUNTS = {"tool": 4, "box": 2, "vue": 1, "js": 9, "vu": 3, "to": 50, "olbox": 1}


def test_every_split_keeps_two_letters_a_side():
    assert splits("vuejs") == [("vu", "ejs"), ("vue", "js")]


@pytest.mark.parametrize("word", ["abc", "1234567", "x" * (MAX_SPLIT_LENGTH + 1), ""])
def test_short_long_and_numeric_words_are_never_split(word):
    assert splits(word) == []


def test_the_split_kept_is_the_one_whose_rarer_word_is_most_common():
    # "to olbox" has a word of 50 listings, but its other is in one; "tool box" in two.
    assert best_split("toolbox", lambda part: COUNTS.get(part, 0)) == ("tool", "box")
    assert best_split("vuejs", lambda part: COUNTS.get(part, 0)) == ("vue", "js")


def test_no_split_without_both_words_listed():
    assert best_split("toolzbax", lambda part: COUNTS.get(part, 0)) is None
