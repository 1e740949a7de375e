"""A common English word some listings have is no typo (search.common_words), on
the embedded indexes' speller and in what OpenSearch's answer is read for."""

from collections.abc import Sequence

import pytest

from search.common_words import is_common_word
from search.fts_spelling import IndexWords, Speller
from search.opensearch_spelling import rare_words


@pytest.mark.parametrize("word", ["fire", "sing", "chess", "invoice", "loose"])
def test_common_words(word):
    assert is_common_word(word)


@pytest.mark.parametrize("word", ["calender", "recieve", "seperate", "invocing", "xyzzyq", ""])
def test_misspellings_rare_words_and_gibberish_are_not_common(word):
    assert not is_common_word(word)


class Words(IndexWords):
    """An index whose listings have each word as many times as ``counts`` says."""

    def __init__(self, counts: dict[str, int]):
        self.counts = counts

    def count_together(self, words: Sequence[str], cap: int) -> int:
        return min(min(self.counts.get(word, 0) for word in words), cap)

    def name_starts(self, word: str) -> bool:
        return False

    def a_name_has(self, words: Sequence[str]) -> bool:
        return False

    def vocabulary(self):
        return iter(self.counts)


def test_a_common_word_a_few_listings_have_is_not_corrected_to_a_commoner_one():
    assert Speller().correction(Words({"fire": 2, "file": 30}), "fire") is None


def test_an_uncommon_word_a_few_listings_have_still_is():
    assert Speller().correction(Words({"calender": 1, "calendar": 12}), "calender") == "calendar"


def test_a_common_word_no_listing_has_is_still_corrected():
    # As typed it finds nothing at all.
    assert Speller().correction(Words({"file": 30}), "fire") == "file"


def test_opensearchs_rare_words_leave_out_common_words():
    response = {"suggest": {"rare": [
        {"text": "fire", "options": [{"text": "file", "freq": 30}]},
        {"text": "calender", "options": [{"text": "calendar", "freq": 12}]}]}}
    assert list(rare_words(response)) == ["calender"]
