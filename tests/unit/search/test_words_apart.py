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


THREE = {"open": 40, "street": 6, "maps": 12, "ope": 2, "nst": 1, "reet": 1,
         "word": 30, "press": 9, "seo": 7, "wordpress": 3, "to": 80, "go": 70, "meeting": 20}


def test_a_word_no_two_listed_words_make_is_tried_as_three():
    assert best_split("openstreetmaps", lambda part: THREE.get(part, 0)) == (
        "open", "street", "maps")


def test_two_words_are_kept_before_three():
    # "wordpress" is a listed word: "wordpress seo" wins over "word press seo".
    assert best_split("wordpressseo", lambda part: THREE.get(part, 0)) == ("wordpress", "seo")


def test_each_of_three_words_has_three_letters_at_least():
    # Two-letter words are everywhere in a large catalog ("to", "go", "js"): three parts
    # of which two are that short would split nearly anything.
    three_ways = splits("gotomeeting", parts=3)
    assert ("got", "ome", "eting") in three_ways and ("go", "to", "meeting") not in three_ways
    assert min(len(part) for split in three_ways for part in split) == 3
    assert splits("abcdefgh", parts=3) == []  # no three words of three letters
    assert best_split("gotomeeting", lambda part: THREE.get(part, 0)) is None


def test_each_part_is_counted_once():
    asked = []

    def counted(part):
        asked.append(part)
        return THREE.get(part, 0)

    best_split("openstreetmaps", counted)
    assert len(asked) == len(set(asked))
