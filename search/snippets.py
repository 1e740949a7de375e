"""Where a description snippet crosses from one Markdown block to the next.

A listing's search document holds its description as plain text, the blocks
(headings, list items, paragraphs) joined by spaces: a snippet of it would run
"What you get Multi-currency invoices Overdue reminders" together. The document
stays as it is (no reindex); the snippet is mended when it is shown, from the
listing's own Markdown: a " · " goes where a block ended without punctuation.
"""

from __future__ import annotations

import html
import re

from search.fts_text import ELLIPSIS

BLOCK_SEPARATOR = " · "
# A block that ends like a sentence needs no separator after it.
SENTENCE_END = (".", "!", "?", ":", ";", "…")
# OpenSearch joins several fragments with this (search/opensearch.py).
FRAGMENT_JOIN = f" {ELLIPSIS} "
MARK = re.compile(r"</?mark>")


def _words_and_ends(blocks: list[str]) -> tuple[list[str], list[bool]]:
    """The document's words, and for each whether a block ends after it."""
    words: list[str] = []
    ends: list[bool] = []
    for block in blocks:
        block_words = block.split()
        words += block_words
        ends += [False] * (len(block_words) - 1) + [True]
    return words, ends


def _plain(token: str) -> str:
    return html.unescape(MARK.sub("", token)).strip(ELLIPSIS)


def _aligned_at(tokens: list[str], words: list[str]) -> int | None:
    """Where the snippet's words start among the document's; the first and last
    may be cut (OpenSearch's fragments, an ellipsis)."""
    plain = [_plain(token) for token in tokens]
    last = len(plain) - 1
    for start in range(len(words) - last):
        if all(
            (words[start + i].endswith(word) if i == 0 else
             words[start + i].startswith(word) if i == last else words[start + i] == word)
            for i, word in enumerate(plain)):
            return start
    return None


def _separate_fragment(fragment: str, words: list[str], ends: list[bool]) -> str:
    tokens = fragment.split(" ")
    if not tokens or any(not token for token in tokens):
        return fragment  # not a plain run of words: leave it be
    start = _aligned_at(tokens, words)
    if start is None:
        return fragment
    pieces = [tokens[0]]
    for i, token in enumerate(tokens[1:]):
        ended = ends[start + i] and not _plain(tokens[i]).endswith(SENTENCE_END)
        pieces.append(BLOCK_SEPARATOR if ended else " ")
        pieces.append(token)
    return "".join(pieces)


def separate_blocks(snippet: str, blocks: list[str]) -> str:
    """``snippet`` (escaped HTML with ``<mark>`` tags, a window of the text that
    is ``" ".join(blocks)``) with a middle dot where one block ends and the next
    begins. A snippet that cannot be placed in the text is returned unchanged."""
    if len(blocks) < 2:
        return snippet
    words, ends = _words_and_ends(blocks)
    return FRAGMENT_JOIN.join(_separate_fragment(fragment, words, ends)
                              for fragment in snippet.split(FRAGMENT_JOIN))
