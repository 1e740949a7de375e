"""Words some listings have, by themselves or by their stem: when they are typos
(search.common_words, search.fts_spelling, search.opensearch_spelling)."""

from collections.abc import Sequence

import pytest

from search.common_words import is_common_word
from search.fts_spelling import IndexWords, Speller
from search.opensearch_spelling import rare_words, typos_only


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


def counts(**found: int) -> dict:
    """An answer to ``stemmed_counts_body``: how many listings a search finds per word."""
    return {"aggregations": {"found": {"buckets": {
        word: {"doc_count": count} for word, count in found.items()}}}}


def suggestions(**freqs: int) -> dict:
    """A search's answer with the term suggester's best suggestion per word."""
    return {"suggest": {"words": [{"text": word, "options": [{"text": "x", "freq": freq}]}
                                  for word, freq in freqs.items()]}}


def test_a_word_found_only_by_a_rare_words_stem_is_still_a_typo_on_opensearch():
    # "parsiing" finds "Parsy" by the stem both have ("parsi"); "parsing" is in eleven
    # listings. "plumber" (where listings say "plumbers") and "retail" are common words.
    fixes = {"parsiing": "parsing", "plumber": "plumbers", "retail": "retain"}
    kept = typos_only(fixes, counts(parsiing=1, plumber=2, retail=1),
                      suggestions(parsiing=11, plumber=30, retail=25))
    assert kept == {"parsiing": "parsing"}


def test_a_word_found_by_its_stem_in_many_listings_is_no_typo_on_opensearch():
    assert typos_only({"parsiing": "parsing"}, counts(parsiing=5),
                      suggestions(parsiing=500)) == {}
