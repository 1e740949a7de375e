"""Spelling correction for the embedded backends, from the index's own words.

A query word the index does not hold at all ("invocing") is looked up in the
index's vocabulary (every word of every listing's name, tagline, description,
tags, category and partner, unstemmed: ``IndexWords.vocabulary``). The nearest
words within an edit distance (one edit for words of four or five letters,
two for longer ones; a swap of two letters counts as one edit) are
candidates; the nearest wins, and among equally near ones one with the same
first letter, then one that makes the query a listing's name, then the word more
listings use. The correction is then searched
for instead of the word. A word some listings have is a real word, corrected
only when a far commoner word is one edit from it (a typo several authors made:
"calender"), never when it is a common English word ("fire" beside "file":
``search.common_words``), and never when some listing's name has every word of the
query (it asks for that app by name).

Edit distances come from rapidfuzz (optimal string alignment), over the
vocabulary words of about the same length, held in memory per process.
https://rapidfuzz.github.io/RapidFuzz/Usage/distance/OSA.html
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import sqlalchemy as sa
from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy.engine import Connection

from core.text import unaccented
from search.analysis import MAX_JOINED_TERMS, QueryPlan, Term, letters_and_digits_apart
from search.common_words import is_common_word
from search.fts_text import TS_CONFIG, fts5_literal, tsquery_literal

MIN_CORRECTED_LENGTH = 4
# How long a process keeps the vocabulary before reading it again; words this
# process indexes meanwhile drop it at once (``forget``).
VOCABULARY_TTL = 300.0
# Among equally near candidates, how many listings use each is counted up to this.
COUNT_CAP = 1000
MAX_CANDIDATES = 5
# A word in a few listings (a typo some author made too: "calender") is corrected
# when a word this many times as common is near it; the word stays an alternative.
POPULAR_BELOW = 5
POPULAR_RATIO = 10
# A word some listings have is only corrected to a word this many edits away.
POPULAR_EDITS = 1
# The shortest part a word run together is split into ("vuejs": "vue js"), and
# the longest word split (each way of splitting it is counted).
MIN_SPLIT_PART = 2
MAX_SPLIT_LENGTH = 20
# A word split in three ("openstreetmaps": "open street maps") keeps three letters a
# part: a large catalog has so many two-letter words ("js", "go", "to") that three
# parts, two of them that short, would split nearly any word in no listing.
MIN_THREE_WAY_PART = 3


def max_edits(word: str) -> int:
    """Edits allowed for a word, like OpenSearch's ``fuzziness: AUTO`` from four
    letters on (shorter words have too many neighbours to guess from)."""
    if len(word) < MIN_CORRECTED_LENGTH:
        return 0
    return 1 if len(word) <= 5 else 2


def unlike_typed(candidate: str, word: str) -> tuple[bool, bool]:
    """How a correction ``candidate`` differs from the ``word`` typed in what people
    seldom get wrong, for ranking equally near ones: its first letter, its digits."""
    return (candidate[:1] != word[:1],
            [c for c in candidate if c.isdigit()] != [c for c in word if c.isdigit()])


def splits(word: str, parts: int = 2) -> list[tuple[str, ...]]:
    """The ways ``word`` is two words of at least ``MIN_SPLIT_PART`` letters run
    together ("vuejs": "vu ejs", "vue js"), or with ``parts=3`` three words of at
    least ``MIN_THREE_WAY_PART``, for ``best_split``; none past ``MAX_SPLIT_LENGTH``
    letters."""
    shortest = MIN_SPLIT_PART if parts == 2 else MIN_THREE_WAY_PART
    if not parts * shortest <= len(word) <= MAX_SPLIT_LENGTH or word.isdigit():
        return []
    ends = range(shortest, len(word) - shortest + 1)
    if parts == 2:
        return [(word[:n], word[n:]) for n in ends]
    return [(word[:n], word[n:m], word[m:]) for n in ends for m in ends if m - n >= shortest]


def best_split(word: str, counted: Callable[[str], int]) -> tuple[str, ...] | None:
    """``word`` as words apart (("tool", "box") for "toolbox"), each of which some
    listings have (``counted``: how many, asked once a part), the rarest of them as
    common as can be; two words if any two will do, else three ("open", "street",
    "maps"); None when no split has every word listed."""
    known: dict[str, int] = {}

    def listed(part: str) -> int:
        if part not in known:
            known[part] = counted(part)
        return known[part]

    for parts in (2, 3):
        best, kept = 0, None
        for split in splits(word, parts):
            common = 0
            for part in split:  # the later parts only if need be
                common = listed(part) if not common else min(common, listed(part))
                if not common:
                    break
            if common and common >= best:  # among equals, the longer first word
                best, kept = common, split
        if kept:
            return kept
    return None


class IndexWords(Protocol):
    """What spelling correction asks of an index (subclassed for ``count``)."""

    def count(self, word: str, cap: int) -> int:
        """How many listings have ``word`` (as the index matches it), up to ``cap``."""
        return self.count_together((word,), cap)

    def count_together(self, words: Sequence[str], cap: int) -> int:
        """How many listings have every one of ``words`` (as the index matches
        them), up to ``cap``."""

    def name_starts(self, word: str) -> bool:
        """Whether a word of some listing's name starts with ``word``."""

    def a_name_has(self, words: Sequence[str]) -> bool:
        """Whether some listing's name has every one of ``words`` (as the index
        matches them)."""

    def vocabulary(self) -> Iterable[str]:
        """Every word the index holds (unstemmed)."""


class SqlIndexWords(IndexWords):
    """The words of the database's full-text index (SQLite FTS5 or PostgreSQL)."""

    def __init__(self, conn: Connection, dialect: str):
        self.conn = conn
        self.dialect = dialect

    def count_together(self, words: Sequence[str], cap: int) -> int:
        if not words:
            return 0
        if self.dialect == "sqlite":
            sql = ("SELECT COUNT(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH :w "
                   "LIMIT :cap) found")
            value = " AND ".join(fts5_literal((word,)) for word in words)
        else:
            sql = ("SELECT COUNT(*) FROM (SELECT 1 FROM search_documents "
                   f"WHERE search_vector @@ to_tsquery('{TS_CONFIG}', :w) LIMIT :cap) found")
            value = " & ".join(tsquery_literal((word,)) for word in words)
        return self.conn.execute(sa.text(sql), {"w": value, "cap": cap}).scalar_one()

    def name_starts(self, word: str) -> bool:
        if self.dialect == "sqlite":
            match = f"name : {fts5_literal((word,))} *"
        else:
            match = tsquery_literal((word,)) + ":*A"
        return self._a_name(match, {"typed": f"% {unaccented(word)}%"})

    def a_name_has(self, words: Sequence[str]) -> bool:
        if not words:
            return False
        if self.dialect == "sqlite":
            match = "name : (" + " AND ".join(fts5_literal((word,)) for word in words) + ")"
        else:
            match = " & ".join(tsquery_literal((word,)) + ":A" for word in words)
        return self._a_name(match, {f"typed{n}": f"% {unaccented(word)} %"
                                    for n, word in enumerate(words)})

    def _a_name(self, match: str, typed: dict[str, str]) -> bool:
        """Whether the index's query ``match`` finds a name whose own words (its
        ``name_key``, a space either side) are LIKE each pattern of ``typed``: the
        index matches by stem, and "parsiing" is stemmed "parsi", as "Parsy" is, though
        it is no word of that name, nor starts one."""
        like = " AND ".join(f"' ' || search_documents.name_key || ' ' LIKE :{key}"
                            for key in typed)
        if self.dialect == "sqlite":
            sql = ("SELECT 1 FROM search_fts CROSS JOIN search_documents "
                   "ON search_documents.listing_id = search_fts.rowid "
                   f"WHERE search_fts MATCH :match AND {like} LIMIT 1")
        else:
            sql = ("SELECT 1 FROM search_documents "
                   f"WHERE search_vector @@ to_tsquery('{TS_CONFIG}', :match) AND {like} LIMIT 1")
        return self.conn.execute(sa.text(sql), {"match": match, **typed}).first() is not None

    def vocabulary(self) -> Iterable[str]:
        return (word for (word,) in self.conn.execute(
            sa.text("SELECT word FROM search_vocabulary")))


def listed_words_run_together(index: IndexWords, word: str,
                              typing: bool = False) -> tuple[str, ...] | None:
    """``word``, in no listing, as two (or three) words some listings have run
    together ("toolbox": "tool box", "vuejs": "vue js", "openstreetmaps": "open street
    maps"): what a name written apart is typed as. Not while ``typing`` a word that
    starts a word of some name ("toolb")."""
    if not splits(word) or index.count(word, 1) or (typing and index.name_starts(word)):
        return None
    return best_split(word, lambda part: index.count(part, COUNT_CAP))


def meant_together(index: IndexWords, plan: QueryPlan, word: str, fixed: str) -> bool:
    """Whether the text's words, as typed, are together in some listing, and in no
    fewer than with ``word`` corrected to ``fixed``: then ``word`` is what was meant,
    however rare ("fire alarm": a listing says both, none says "file alarm"). Only
    in a text of several words; never for a word in no listing (none has them all)."""
    words = plan.term_words()
    if len(words) < 2:
        return False
    as_typed = index.count_together(words, COUNT_CAP)
    return bool(as_typed) and index.count_together(
        [fixed if other == word else other for other in words], COUNT_CAP) <= as_typed


class Vocabulary:
    """The index's words by length, read once and kept for ``VOCABULARY_TTL``."""

    def __init__(self, ttl: float = VOCABULARY_TTL):
        self.ttl = ttl
        self._by_length: dict[int, list[str]] | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Read the words again next time (this process changed the index)."""
        with self._lock:
            self._by_length = None

    def _words(self, index: IndexWords) -> dict[int, list[str]]:
        with self._lock:
            fresh = time.monotonic() - self._loaded_at < self.ttl
            if self._by_length is not None and fresh:
                return self._by_length
        by_length: dict[int, list[str]] = defaultdict(list)
        for word in index.vocabulary():
            by_length[len(word)].append(word)
        with self._lock:
            self._by_length, self._loaded_at = dict(by_length), time.monotonic()
        return self._by_length

    def nearest(self, index: IndexWords, word: str, most: int | None = None) -> list[str]:
        """Vocabulary words within ``max_edits(word)`` of ``word`` (and within
        ``most`` edits, if given), nearest first."""
        edits = max_edits(word) if most is None else min(most, max_edits(word))
        if not edits:
            return []
        by_length = self._words(index)
        choices = [candidate for length in range(len(word) - edits, len(word) + edits + 1)
                   for candidate in by_length.get(length, ())]
        found = [(candidate, distance) for candidate, distance, _ in process.extract(
            word, choices, scorer=OSA.distance, score_cutoff=edits, limit=MAX_CANDIDATES * 4)
            if candidate != word]  # the word itself, when some listing has it too
        if not found:
            return []
        nearest = min(distance for _, distance in found)
        return [candidate for candidate, distance in found if distance == nearest][:MAX_CANDIDATES]


class Speller:
    """Corrects the words of a query plan that match no listing at all."""

    def __init__(self, vocabulary: Vocabulary | None = None):
        self.vocabulary = vocabulary or Vocabulary()

    def correction(self, index: IndexWords, word: str, rare_below: int = 1,
                   typing: bool = False,
                   names_the_query: Callable[[], bool] = lambda: False,
                   names_with: Callable[[str], bool] = lambda candidate: False) -> str | None:
        """The word to search for as well as ``word``, or None.

        A word that fewer than ``rare_below`` listings have (by default: that
        none has) is corrected by a word more listings have; a word in fewer
        than ``POPULAR_BELOW`` listings, by a word ``POPULAR_RATIO`` times as
        common; never a common English word some listings have. ``typing``: the
        word may be unfinished; it is left alone when it
        starts a word of some listing's name. ``names_the_query``: whether some
        listing's name has every word of the query (then a word some listings
        have is no typo: "node js" asks for "Node.js Monitor"); ``names_with``:
        whether it does with a candidate in place of ``word``."""
        if max_edits(word) == 0 or word.isdigit():
            return None
        found = index.count(word, max(rare_below, POPULAR_BELOW))
        if found >= max(rare_below, POPULAR_BELOW) or (found and is_common_word(word)):
            return None
        if found and names_the_query():
            return None
        if typing and index.name_starts(word):
            return None
        needed = found + 1 if found < rare_below else found * POPULAR_RATIO
        # A word some listings have is a real word unless a commoner one is a
        # single edit away: two edits from a six-letter word reach too many other
        # real words ("friend" -> "brien", "factor" -> "faster").
        counted = [(count, candidate) for count, candidate in (
            (index.count(candidate, COUNT_CAP), candidate) for candidate in
            self.vocabulary.nearest(index, word, POPULAR_EDITS if found else None))
            if count >= needed]
        # Equally near: one with the same first letter (people seldom mistype the
        # first: "sinc" is "sync" rather than "inc") and the same digits (nor type a
        # digit for a letter: "throug2" is "through2", not "through"), then one that
        # makes the query a listing's name ("is builtn module": "builtin", not the
        # commoner "built"), then the word more listings use.
        named = {candidate for _, candidate in counted if len(counted) > 1
                 and names_with(candidate)}
        counted.sort(key=lambda pair: (*unlike_typed(pair[1], word), pair[1] not in named,
                                       -pair[0]))
        return counted[0][1] if counted else None

    @staticmethod
    def part_of_a_listed_word(index: IndexWords, plan: QueryPlan, term: Term) -> bool:
        """Whether ``term``'s word, run together with a neighbouring word of the text
        (``analysis``: "sign right" is also "signright"), is a word some listing has."""
        return any(index.count(whole, 1) for whole in plan.run_together_with(term))

    def correct(self, index: IndexWords, plan: QueryPlan, rare_below: int = 1) -> QueryPlan:
        """``plan`` with a correction added to each single-word term whose word
        fewer than ``rare_below`` listings have. The word itself stays an
        alternative, so nothing it finds is lost."""
        terms: list[Term] = []
        changed = False
        last = len(plan.terms) - 1
        named: list[bool] = []  # asked once, and only when a word needs it
        # As corrected so far: "node js monitr" names "Node.js Monitor" once "monitr"
        # is "monitor", and "node" is then no typo.
        words = [word for term in plan.terms
                 for word in ((term.corrected[0],) if term.corrected else term.words)]

        def names_the_query() -> bool:
            if not named:
                named.append(index.a_name_has(words))
            return named[0]

        def names_with(word: str) -> Callable[[str], bool]:
            return lambda candidate: index.a_name_has(
                [candidate if other == word else other for other in words])

        for position, term in enumerate(plan.terms):
            word = term.single_word
            # A word the synonym list knows is a real word ("esignature"), no typo;
            # so is one that, run together with its neighbour, is a word some listing
            # has ("clinic flow": "ClinicFlow"), asked only of a word about to be
            # corrected.
            # Letters and digits typed together that some listing has apart ("k12"
            # for "K-12", "ledgerly2" for "Ledgerly 2") are no typo either.
            parts = letters_and_digits_apart(word) if word else None
            if word and not term.corrected and not term.listed and not (
                    parts and index.count_together(parts, 1)):
                typing = position == last and word == plan.prefix
                fixed = self.correction(index, word, rare_below, typing, names_the_query,
                                        names_with(word))
                apart = (None if fixed or len(plan.terms) > MAX_JOINED_TERMS
                         else listed_words_run_together(index, word, typing))
                if (fixed and not self.part_of_a_listed_word(index, plan, term)
                        and not meant_together(index, plan, word, fixed)):
                    term = term.with_corrections([fixed])
                    changed = True
                elif apart:
                    # No typo: the words apart are one more alternative, as for a
                    # hyphenated word ("e-signature": "e signature").
                    term = term.with_alternative(apart)
                    changed = True
            terms.append(term)
        return plan.with_terms(terms) if changed else plan
