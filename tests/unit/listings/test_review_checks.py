"""The automatic checks that hold a new review for an editor (issue 16, item 5):
each is a pure function that names its reason, or None when the review may go live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from listings.review_checks import (
    BURST_SIZE,
    NEW_ACCOUNT_DAYS,
    banned_words,
    banned_words_reason,
    hold_reasons,
    links_reason,
    new_account_reason,
    rating_burst_reason,
)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_a_new_account_is_held_and_an_older_one_is_not():
    assert new_account_reason(NOW - timedelta(hours=3), NOW) == (
        f"the account is less than {NEW_ACCOUNT_DAYS} days old")
    assert new_account_reason(NOW - timedelta(days=NEW_ACCOUNT_DAYS, minutes=1), NOW) is None
    # A naive timestamp (SQLite gives those back) is read as UTC, not refused.
    assert new_account_reason((NOW - timedelta(days=30)).replace(tzinfo=None), NOW) is None


@pytest.mark.parametrize("title, body", [
    ("Great", "See https://cheap.example.com for more"),
    ("Visit www.example.org", ""),
    ("Great", "[click](http://x.example)"),
    ("Great", "mail me at deals.example.com/offer"),
])
def test_links_hold_a_review(title, body):
    assert links_reason(title, body) == "it contains a link"


@pytest.mark.parametrize("title, body", [
    ("Great app", "Works well. Setup took 5 min. Version 2.0 is faster."),
    ("Good", "e.g. the CSV export, i.e. the main thing"),
])
def test_plain_text_is_not_a_link(title, body):
    assert links_reason(title, body) is None


def test_banned_words_are_matched_as_whole_words_ignoring_case():
    words = frozenset({"scam", "viagra"})
    assert banned_words_reason("Total SCAM", "", words) == "it contains a banned word (“scam”)"
    assert banned_words_reason("Fine", "buy viagra now", words) == (
        "it contains a banned word (“viagra”)")
    # "scampi" contains "scam" but is not the word.
    assert banned_words_reason("Scampi recipes app", "", words) is None


def test_the_shipped_word_list_is_loaded_once_and_skips_comments():
    words = banned_words()
    assert words is banned_words()  # loaded once
    assert words and all(word == word.strip().lower() and not word.startswith("#")
                         for word in words)


def test_a_burst_of_the_same_rating_is_held():
    assert rating_burst_reason(BURST_SIZE - 2, 1) is None
    assert rating_burst_reason(BURST_SIZE - 1, 1) == (
        f"it is one of {BURST_SIZE} or more 1-star reviews of this app in the last hour")


def test_hold_reasons_lists_every_check_that_trips():
    old = NOW - timedelta(days=90)
    assert hold_reasons(old, NOW, "Good", "Works.", 5, recent_same_rating=0) == []
    assert hold_reasons(NOW, NOW, "Good", "see http://x.example", 1,
                        recent_same_rating=BURST_SIZE) == [
        f"the account is less than {NEW_ACCOUNT_DAYS} days old",
        "it contains a link",
        f"it is one of {BURST_SIZE} or more 1-star reviews of this app in the last hour",
    ]
