"""The text side of the embedded search backend: splitting a query into words,
turning them into FTS5 and PostgreSQL query expressions, highlighted snippets, and
the popularity lift of a listing's text score."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from core.text import composed, typed, unaccented
from search.interfaces import MAX_QUERY_LENGTH

# PostgreSQL's text search configuration of the search vector and its queries: 'english'
# with no stopword list (migration 0033), so a phrase keeps its small words ("log in").
TS_CONFIG = "bazaar_english"
MAX_WORDS = 20          # words of a query that are searched; the rest is ignored
MAX_WORD_LENGTH = 40    # longer words are cut (no real word is longer)
MAX_RUN_TOGETHER = 60   # letters typed that autocomplete also compares run together
# Letters and digits: what both text engines treat as word characters. The
# underscore is left out because FTS5 and PostgreSQL both split words on it.
WORD = re.compile(r"[^\W_]+")
# Languages written with a symbol, which every tokenizer reads as a lone letter
# ("C++" as "c"): spelt out as a word before text is split, in listings' text and in
# queries alike, on every index (OpenSearch: opensearch_index.ANALYSIS, "symbol_words"; the
# database's: search.fts, migration 0032); not after a letter or digit ("ABC#", "dc++").
# A word with digits after it is parted from them ("C++17": "cplusplus 17").
SYMBOL_WORDS = {"c++": "cplusplus", "c#": "csharp", "f#": "fsharp"}
WRITTEN_SYMBOL_WORDS = {spelt: written for written, spelt in SYMBOL_WORDS.items()}
SYMBOL_WORD = re.compile(r"(?<!\w)(?:%s)" % "|".join(map(re.escape, SYMBOL_WORDS)),
                         re.IGNORECASE)
# Control characters never belong in listing text; removing them keeps our
# highlight markers (\x02 ... \x03) unambiguous, and PostgreSQL rejects \x00.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MARK_START, MARK_END = "\x02", "\x03"
ELLIPSIS = "\u2026"
SNIPPET_WORDS = 24
# Popularity lifts the text score by at most this factor, so a listing whose
# text matches clearly better (by more than 30%) still ranks above it.
MAX_BOOST = 1.3


def symbol_words_spelt(text: str) -> str:
    """``text`` with each language written with a symbol spelt out as a word
    (``SYMBOL_WORDS``: "C++ and C#" is "cplusplus  and csharp ")."""
    if "+" not in text and "#" not in text:  # most text: no regular expression run
        return text
    return SYMBOL_WORD.sub(lambda found: SYMBOL_WORDS[found.group().lower()] + " ", text)


def words_of(text: str) -> list[str]:
    """The searchable words of ``text``: lowercase letters and digits, at most
    ``MAX_WORDS`` of them, each at most ``MAX_WORD_LENGTH`` long, and languages
    written with a symbol as the words ``SYMBOL_WORDS`` spells them. Everything
    else (quotes, operators, brackets, emoji) is a separator."""
    text = symbol_words_spelt(typed(text or "")[:MAX_QUERY_LENGTH].lower())
    return [word[:MAX_WORD_LENGTH] for word in WORD.findall(text)[:MAX_WORDS]]


def name_key(words: Sequence[str]) -> str:
    """A name as the embedded indexes compare it (``name_key``): its words, without
    accents, joined by single spaces ("Crème Brûlée" and "creme brulee" alike)."""
    return unaccented(" ".join(words))


def run_together(key: str) -> str:
    """A ``name_key`` with its words run together: "wifi" for "wi fi", "k12" for
    "k 12". People type a name's hyphens and dots that way ("Wi-Fi", "K-12",
    "Node.js"), so autocomplete also compares names by this."""
    return key.replace(" ", "")


def suggest_typo_edits(word: str) -> int:
    """The typos autocomplete forgives in a word, when no name starts with what is
    typed: as search forgives them in names (OpenSearch's ``AUTO:5,8``), none below
    five letters, one up to seven, two from eight."""
    return 0 if len(word) < 5 else 1 if len(word) < 8 else 2


def typed_run_together(key: str) -> str | None:
    """What is typed (a ``name_key``), run together, for autocomplete to compare with
    names run together; None past ``MAX_RUN_TOGETHER`` letters and digits: a name
    typed that far is found by its words, and OpenSearch caps the length of the
    regular expression it becomes there."""
    joined = run_together(key)
    return joined if len(joined) <= MAX_RUN_TOGETHER else None


def run_together_pattern(joined: str) -> str:
    """A regular expression for the name keys that start with the letters and digits
    of ``joined``, whatever single spaces fall between them ("w ?i ?f ?i.*" for
    "wifi"). A key holds letters, digits and spaces only, and letters and digits are
    literal in tantivy's and Lucene's regular expressions alike."""
    return " ?".join(joined) + ".*"


def fts5_literal(words: Sequence[str]) -> str:
    """A word, or a phrase of words, as an FTS5 string: quoted, quotes doubled,
    so it is always a literal and never query syntax."""
    return '"' + " ".join(words).replace('"', '""') + '"'


def tsquery_literal(words: Sequence[str], weights: str = "") -> str:
    """A word, or a phrase (``<->``: one right after the other), as quoted
    ``to_tsquery`` lexemes, each only in the vector's parts of ``weights`` ("ABC")
    if given. The words hold letters and digits only, so the quotes cannot be
    broken out of."""
    label = f":{weights}" if weights else ""
    quoted = ["'" + word.replace("'", "''").replace("\\", "\\\\") + "'" + label
              for word in words]
    return quoted[0] if len(quoted) == 1 else "(" + " <-> ".join(quoted) + ")"


def fts5_query(words: Sequence[str], prefix_column: str | None = "name") -> str:
    """An FTS5 MATCH expression: every word quoted (so it is a literal string,
    never syntax), all required. The last word may also be the start of a word
    of ``prefix_column`` so that typing-in-progress finds names (like an edge
    n-gram on the name); with no column, it is a prefix in every column.

    Prefixes stay out of the long text on purpose: "qu" would otherwise match
    most descriptions, which is slow and rarely what was meant."""
    quoted = [fts5_literal((word,)) for word in words]
    if quoted and prefix_column:
        quoted[-1] = f"({quoted[-1]} OR {prefix_column} : {quoted[-1]} *)"
    elif quoted:
        quoted[-1] += " *"
    return " AND ".join(quoted)


def tsquery(words: Sequence[str], prefix_weight: str | None = "A") -> str:
    """A PostgreSQL ``to_tsquery`` input of the same shape as ``fts5_query``:
    quoted lexemes, all required, the last also a prefix of a lexeme of
    ``prefix_weight`` (A: the name)."""
    quoted = [tsquery_literal((word,)) for word in words]
    if quoted and prefix_weight:
        quoted[-1] = f"({quoted[-1]} | {quoted[-1]}:*{prefix_weight})"
    elif quoted:
        quoted[-1] += ":*"
    return " & ".join(quoted)


def mark(text: str) -> str:
    """Highlighted text as safe HTML: escape the text first, then turn the
    engine's control-character markers into <mark> tags."""
    escaped = html.escape(text, quote=True)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def window(text: str, size: int = SNIPPET_WORDS) -> str:
    """About ``size`` words of ``text`` around its first marked match (for
    PostgreSQL, whose own fragment mode drops tag-like text)."""
    tokens = text.split()
    first = next((i for i, token in enumerate(tokens) if MARK_START in token), 0)
    start = max(0, first - size // 3)
    snippet = " ".join(tokens[start:start + size])
    if start > 0:
        snippet = ELLIPSIS + snippet
    if start + size < len(tokens):
        snippet += ELLIPSIS
    return snippet


def clean_text(value, limit: int | None = None) -> str:
    """Text without control characters, cut to ``limit`` characters (the
    column's size: one oversized value must not fail a whole rebuild), composed."""
    return composed(CONTROL.sub(" ", str(value or "")))[:limit]


def parse_datetime(value) -> datetime | None:
    """An aware UTC datetime from the document's ISO 8601 text ('' -> None)."""
    if not value:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def popularity_boost(rating_average: float, rating_count: int, installs: int) -> float:
    """How much popularity lifts a text score: 1.0 for an unknown app, growing
    with the log of its review count (weighted by how good the reviews are) and
    of its installs, never above ``MAX_BOOST``."""
    lift = (0.03 * math.log1p(max(rating_count, 0)) * max(min(rating_average, 5.0), 0.0) / 5.0
            + 0.02 * math.log1p(max(installs, 0)))
    return min(1.0 + lift, MAX_BOOST)
