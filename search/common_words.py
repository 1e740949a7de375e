"""Common English words, which spelling correction leaves alone when some listings
have them.

By its counts alone, a word a few listings have is a typo when a far commoner word is
one edit from it (``search.fts_spelling``): "calender" in one description, "calendar"
in a dozen. Counts cannot tell it from "fire" in two listings beside "file" in thirty.
English can: "fire" is one of its common words, "calender" is not (it is a word, but a
rare one, and mostly a misspelling in the text wordfreq counted). A word in no listing
is corrected when the text as typed finds nothing, common or not; when the rest of
the text finds something, a common word was meant ("plumbers" in "invoicing for
plumbers", "best" in "best crm"), so that is shown and the correction only offered.

The frequencies are wordfreq's "small" English list (words used at least about once
per million words, Zipf 3 and up; https://github.com/rspeer/wordfreq), read once per
process on first use (about 0.1 s).
"""

from __future__ import annotations

from collections.abc import Collection

from wordfreq import zipf_frequency

# Zipf frequency: log10 of uses per billion words ("fire" 5.3, "file" 4.75, "invoice"
# 3.27, "calender" 2.54). The small list holds the words from 3 up, so every word in
# it counts as common.
COMMON_ZIPF = 3.0


def is_common_word(word: str) -> bool:
    """Whether ``word`` (one word, as the index holds it) is a common English word."""
    return zipf_frequency(word, "en", wordlist="small") >= COMMON_ZIPF


def all_common_words(words: Collection[str]) -> bool:
    """Whether there are ``words`` and every one is a common English word."""
    return bool(words) and all(map(is_common_word, words))
