"""Which of several equally near words a typo is corrected to: the same rule on the
embedded indexes (search.fts_spelling) and on OpenSearch (search.opensearch_spelling)."""

import pytest

from search.analysis import analyse
from search.fts_spelling import Speller
from search.opensearch_spelling import corrections, named_where_tied
from tests.unit.search.test_common_words import Words


def test_the_more_common_of_equally_near_words_wins():
    index = Words({"built": 12, "builtin": 1})
    assert Speller().correction(index, "builtn") == "built"


def test_one_that_makes_the_query_a_name_wins_over_a_more_common_one():
    index = Words({"built": 12, "builtin": 1})
    assert Speller().correction(index, "builtn",
                                names_with=lambda candidate: candidate == "builtin") == "builtin"


def test_one_that_keeps_the_digits_typed_wins_over_a_more_common_one():
    # "throug2": an "h" left out of "through2", or the "h" of "through" typed as a 2.
    index = Words({"through": 40, "through2": 3})
    assert Speller().correction(index, "throug2") == "through2"
    assert corrections(suggested("throug2", ("through", 40), ("through2", 3))) == {
        "throug2": "through2"}


def suggested(word: str, *options: tuple[str, int]) -> dict:
    """A term suggester's answer for ``word``, its options in the suggester's order."""
    return {"suggest": {"words": [{"text": word, "options": [
        {"text": text, "freq": freq, "score": 0.9 - n / 100}
        for n, (text, freq) in enumerate(options)]}]}}


def test_opensearch_chooses_among_its_suggestions_by_the_same_rule():
    # The suggester scores "present" first (as long as the typo); "preset" is as near
    # and in eight times as many listings. A nearer one beats both.
    assert corrections(suggested("presett", ("present", 1), ("preset", 8))) == {
        "presett": "preset"}
    assert corrections(suggested("presetts", ("present", 1), ("presets", 2))) == {
        "presetts": "presets"}


def test_opensearch_asks_which_tied_word_names_a_listing_and_takes_it():
    plan = analyse("is builtn module")
    answer = suggested("builtn", ("built", 12), ("builtin", 1))
    asked = []

    def search(body):
        asked.append(body)
        return {"aggregations": {"found": {"buckets": {
            "builtn built": {"doc_count": 0}, "builtn builtin": {"doc_count": 1}}}}}

    assert named_where_tied(plan, {"builtn": "built"}, answer, search) == {"builtn": "builtin"}
    assert len(asked) == 1


@pytest.mark.parametrize("answer", [
    suggested("builtn", ("built", 12)),                   # one suggestion
    suggested("builtn", ("built", 12), ("bulletin", 3)),  # the other is farther
])
def test_opensearch_asks_nothing_without_a_tie(answer):
    def search(body):
        raise AssertionError("no request without a tie")

    plan = analyse("is builtn module")
    assert named_where_tied(plan, {"builtn": "built"}, answer, search) == {"builtn": "built"}
