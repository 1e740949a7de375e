"""The automatic checks on a new review (docs/reviews.md).

A review is published the moment it is written unless one of these checks
trips; then it is held for an editor, with the reasons recorded on the review
and shown to the editor and its author. Each check is a pure function that
returns its reason in words ("it contains a link"), or None when it has nothing
to say, so each can be tested on its own and ``post_review`` stays short.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

# An account younger than this has its reviews held: throwaway accounts are
# the cheapest way to flood an app with ratings.
NEW_ACCOUNT_DAYS = 2
# This many reviews of one app with the same rating within BURST_WINDOW (the
# new one included) look like a campaign rather than customers.
BURST_SIZE = 5
BURST_WINDOW = timedelta(hours=1)

BANNED_WORDS_FILE = Path(__file__).with_name("review_banned_words.txt")

# A link: a URL scheme, "www.", a Markdown link, or a bare domain with a common
# top-level domain ("deals.example.com/offer"). "e.g." or "2.0" are not links.
LINK_RE = re.compile(
    r"(https?://|\bwww\.|\]\(|\b[a-z0-9-]+(\.[a-z0-9-]+)*"
    r"\.(com|net|org|io|co|app|dev|info|biz|ru|cn|xyz|ly|me|shop|site|online|top)\b)",
    re.IGNORECASE)


def _as_utc(value: datetime) -> datetime:
    # SQLite gives timestamps back without a zone; they are stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def new_account_reason(account_created_at: datetime, now: datetime) -> str | None:
    """Held when the author's account is younger than ``NEW_ACCOUNT_DAYS``."""
    if _as_utc(now) - _as_utc(account_created_at) < timedelta(days=NEW_ACCOUNT_DAYS):
        return f"the account is less than {NEW_ACCOUNT_DAYS} days old"
    return None


def links_reason(title: str, body: str) -> str | None:
    """Held when the title or body contains a link (reviews are not adverts)."""
    if LINK_RE.search(title) or LINK_RE.search(body):
        return "it contains a link"
    return None


@cache
def banned_words() -> frozenset[str]:
    """The words in ``review_banned_words.txt``, read once per process."""
    lines = BANNED_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines
                     if line.strip() and not line.lstrip().startswith("#"))


def banned_words_reason(title: str, body: str, words: frozenset[str]) -> str | None:
    """Held when the review uses one of ``words`` as a whole word, ignoring case."""
    text = f"{title}\n{body}".lower()
    for word in sorted(words):
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
            return f"it contains a banned word (“{word}”)"
    return None


def rating_burst_reason(recent_same_rating: int, rating: int) -> str | None:
    """Held when, with this one, ``BURST_SIZE`` or more reviews of the app gave the
    same ``rating`` within ``BURST_WINDOW``; ``recent_same_rating`` counts the others."""
    if recent_same_rating + 1 >= BURST_SIZE:
        return (f"it is one of {BURST_SIZE} or more {rating}-star reviews of this app "
                f"in the last hour")
    return None


def hold_reasons(account_created_at: datetime, now: datetime, title: str, body: str,
                 rating: int, recent_same_rating: int) -> list[str]:
    """Every reason to hold this review, in a fixed order; empty when it may go live."""
    found = [new_account_reason(account_created_at, now), links_reason(title, body),
             banned_words_reason(title, body, banned_words()),
             rating_burst_reason(recent_same_rating, rating)]
    return [reason for reason in found if reason]
