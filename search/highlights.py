"""A hit's highlights, made in Python from its text: the name and tagline whole and
the description as a snippet around its first match, with the words the search
matched marked (``search.fts_text.mark``: HTML-escaped, ``<mark>`` around each).

Used by the local index (tantivy: its stored text; Snowball's English stems, as its
analyzer has them) and by OpenSearch, whose hits bring their name, tagline and
description (``_source``) and are marked here: OpenSearch's highlighter cost a third
of its answer's time (about 0.1 ms a hit and field on two cores; docs/performance.md).
The database's index marks them in SQL (``search.fts``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Sequence
from functools import cached_property, lru_cache

from core.text import unaccented
from search.analysis import QueryPlan
from search.fts_text import (
    MARK_END,
    MARK_START,
    SNIPPET_WORDS,
    SYMBOL_WORD,
    SYMBOL_WORDS,
    WORD,
    mark,
    window,
)
from search.synonyms import stem

FIELDS = ("name", "tagline", "description")
# A word is looked at only when it starts as some stem does (``candidate_prefix``):
# most words of a description are then skipped by a search in C, not by Python.
CANDIDATE_PREFIX = 3
# A run of letters and digits: a word, from where it starts.
_WORD_RUN = re.compile(r"[^\W_]*")
# A word as a search matched it: a language written with a symbol ("C++": matched as
# "cplusplus", fts_text.SYMBOL_WORDS) is one word, the rest as ``WORD`` has them.
_WORD_OR_SYMBOL = re.compile(SYMBOL_WORD.pattern + r"|[^\W_]+", re.IGNORECASE)
# The accented Latin letters a word may be written with ("résumé" for "resume"):
# text with any is searched by a regular expression that knows them.
_ACCENTED = re.compile("[\u00c0-\u024f]")


def marked(text: str, wanted: Callable[[str], bool],
           spans: Iterable[tuple[int, int]] | None = None,
           typing: Callable[[str], bool] | None = None,
           words_after: int | None = None, in_phrases: Container[int] = ()) -> str | None:
    """``text`` with each word (of the ``spans`` given, (start, end) in order; by
    default every word) that is ``wanted``, or that ``typing`` says starts the word
    being typed, or whose place among the spans is ``in_phrases``, between the mark
    characters; None when no word is. ``words_after``: mark no further than this many
    words after the first (all a snippet shows: a README need not be read to its
    end)."""
    if spans is None:
        spans = (match.span() for match in _WORD_OR_SYMBOL.finditer(text))
    found, pieces, last, cut = False, [], 0, None
    for place, (start, end) in enumerate(spans):
        if cut is not None and start >= cut:
            break
        word = text[start:end]
        if place in in_phrases or wanted(word) or (typing is not None and typing(word)):
            pieces += [text[last:start], MARK_START, word, MARK_END]
            last, found = end, True
            if words_after is not None and cut is None:
                cut = _words_after(words_after).match(text, last).end()
    return "".join(pieces) + text[last:] if found else None


@lru_cache(maxsize=4)
def _words_after(count: int) -> re.Pattern:
    return re.compile(r"(?:\s*\S+){0,%d}" % count)


def shown(field: str, highlighted: str) -> str:
    """A marked field as a hit's highlight: the description as a snippet."""
    return mark(window(highlighted) if field == "description" else highlighted)


def folded_stem(word: str) -> str:
    """The English stem a word is matched by (accents and case aside; "C++" as the
    word it is spelt as, "cplusplus")."""
    folded = unaccented(word).lower()
    return stem(SYMBOL_WORDS.get(folded, folded))


def _letter_forms() -> dict[str, str]:
    """Each ASCII letter with the accented letters (Latin-1 and Latin Extended) that
    fold to it: "e" -> "eéèêë...", so "res" also finds "Résumé"."""
    forms: dict[str, str] = {}
    for code in range(0xC0, 0x250):
        letter = chr(code)
        base = unaccented(letter).lower()
        if len(base) == 1 and base.isascii() and base.isalpha():
            forms[base] = forms.get(base, base) + letter
    return forms


_LETTER_FORMS = _letter_forms()


def _any_accent(prefix: str) -> str:
    """A pattern for ``prefix`` whose letters may be written with accents."""
    return "".join(f"[{re.escape(_LETTER_FORMS[char])}]" if char in _LETTER_FORMS
                   else re.escape(char) for char in prefix)


def candidate_prefix(stem: str) -> str:
    """What the words with this (folded) stem start with, folded: Snowball's English
    stemmer changes no more than a stem's last letter (happy: happi, hoping: hope;
    so on 80,000 words of PyPI's READMEs), so the stem less that letter, and at
    least ``CANDIDATE_PREFIX`` letters."""
    return stem[:max(CANDIDATE_PREFIX, len(stem) - 1)]


class StemHighlighter:
    """Marks the words whose English stem is one of a search's (its words, their
    synonyms and corrections), the words of its phrases where they stand together
    (a synonym of several words: "general data protection regulation" for "gdpr"
    marks no lone "data"), and in a name the words that start with the word being
    typed."""

    def __init__(self, words: Iterable[str], typing: str | None = None,
                 phrases: Iterable[Sequence[str]] = ()):
        self.stems = {folded_stem(word) for word in words if word}
        self.phrases = {tuple(map(folded_stem, phrase)) for phrase in phrases
                        if len(phrase) > 1}
        self.typing = unaccented(typing).lower() if typing else None
        self._every_stem = self.stems.union(*self.phrases)
        self.prefixes = sorted({candidate_prefix(found) for found in self._every_stem
                                if found}, key=len, reverse=True)
        # The languages written with a symbol the search asked for ("c++").
        self.symbols = [written for written, spelt in SYMBOL_WORDS.items()
                        if stem(spelt) in self._every_stem]
        self._stemmed: dict[str, bool] = {}

    @cached_property
    def candidates(self) -> re.Pattern | None:
        """The words that start as a stem's first letters do, found by a regular
        expression that knows accented letters: compiled (about 0.7 ms, a millisecond
        more with longer prefixes) only for a search whose hits have such letters."""
        prefixes = sorted({found[:CANDIDATE_PREFIX] for found in self._every_stem if found},
                          key=len, reverse=True)
        if not prefixes:
            return None
        symbols = "".join(r"(?<!\w)%s|" % re.escape(written) for written in self.symbols)
        return re.compile(r"%s(?<![^\W_])(?:%s)[^\W_]*" % (
            symbols, "|".join(map(_any_accent, prefixes))), re.IGNORECASE)

    def _wanted(self, word: str) -> bool:
        wanted = self._stemmed.get(word)
        if wanted is None:
            wanted = self._stemmed[word] = folded_stem(word) in self.stems
        return wanted

    def _typed(self, word: str) -> bool:
        return unaccented(word).lower().startswith(self.typing)

    def spans(self, text: str) -> Iterable[tuple[int, int]]:
        """Where the words of ``text`` that start as a stem does are, in order: found
        by ``str.find`` in the lowercased text (a regular expression took twice as
        long, reading every letter in Python's engine), or, when the text has accented
        letters or a letter whose lowercase is longer, by ``candidates``."""
        folded = text.lower()
        if len(folded) != len(text) or (not folded.isascii() and _ACCENTED.search(folded)):
            return (match.span() for match in self.candidates.finditer(text))
        ends: dict[int, int] = {}  # where a word starts: where it ends, when known
        for prefix in self.prefixes:
            at = folded.find(prefix)
            while at != -1:
                if at == 0 or not text[at - 1].isalnum():  # where a word starts
                    ends[at] = 0
                at = folded.find(prefix, at + 1)
        for written in self.symbols:  # where SYMBOL_WORD has them
            at = folded.find(written)
            while at != -1:
                if at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_"):
                    ends[at] = at + len(written)
                at = folded.find(written, at + 1)
        return ((start, ends[start] or _WORD_RUN.match(text, start).end())
                for start in sorted(ends))

    def in_phrases(self, text: str, spans: Sequence[tuple[int, int]]) -> set[int]:
        """The places among ``spans`` (words of ``text``, in order) of the words of a
        phrase found whole: its words one after the other, nothing but spaces and
        punctuation between them."""
        if not self.phrases:
            return set()
        stems: dict[int, str] = {}

        def stem_at(place: int) -> str:
            if place not in stems:
                stems[place] = folded_stem(text[slice(*spans[place])])
            return stems[place]

        def next_to(place: int) -> bool:
            return WORD.search(text, spans[place][1], spans[place + 1][0]) is None

        found = set()
        for place in range(len(spans)):
            for phrase in self.phrases:
                end = place + len(phrase)
                if (end <= len(spans)
                        and all(stem_at(place + n) == part for n, part in enumerate(phrase))
                        and all(map(next_to, range(place, end - 1)))):
                    found.update(range(place, end))
        return found

    def highlights(self, texts: dict[str, str]) -> dict[str, str]:
        """``{field: highlight}`` for the fields of ``texts`` (name, tagline,
        description) that have a word marked."""
        found = {}
        for field in FIELDS:
            text = texts.get(field) or ""
            if field == "name" and self.typing:
                spans = [match.span() for match in _WORD_OR_SYMBOL.finditer(text)]
                highlighted = marked(text, self._wanted, spans, typing=self._typed,
                                     in_phrases=self.in_phrases(text, spans))
            elif self.prefixes:
                spans = list(self.spans(text))
                highlighted = marked(text, self._wanted, spans,
                                     words_after=SNIPPET_WORDS if field == "description"
                                     else None, in_phrases=self.in_phrases(text, spans))
            else:
                highlighted = None
            if highlighted is not None:
                found[field] = shown(field, highlighted)
        return found


def plan_highlighter(plan: QueryPlan) -> StemHighlighter:
    """Marks a search's words, their synonyms and corrections (those of several
    words where they stand together), and in a name the word being typed."""
    alternatives = [alternative for term in plan.terms for alternative in term.alternatives]
    words = {word for alternative in alternatives if len(alternative) == 1
             for word in alternative}
    words.update(word for term in plan.terms for word in term.corrected)
    return StemHighlighter(words, plan.prefix,
                           [alternative for alternative in alternatives if len(alternative) > 1])
