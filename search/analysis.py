"""What a search text asks for, the same for every backend: its terms, the
variants of each term, and how many terms a listing must match.

A query's words become *terms*. A term matches a listing when any one of its
*alternatives* does; an alternative is a word or a phrase (several words in a
row). The alternatives of a term come from:

- the curated synonym list and the editors' lines (``search.synonyms``):
  "e-mail" also looks for "email" and "mail";
- hyphenated words the list does not know: "e-signature" is also "esignature";
- letters and digits typed together: "k12" is also "k 12" (a name says "K-12");
- agent nouns: "editor" is also "edit", "scheduler" is also "schedule", and
  "edit" is also "editor";
- spelling corrections a backend adds for words its index does not hold.

Common English words ("for", "the", "with") and words every listing could say
of itself ("app", "software") are not terms: "invoicing app for plumbers"
needs "invoicing" and "plumbers", not "for" or "app".

Matching degrades gracefully: a listing must match ``required`` of the terms
(all of one or two, all but one of three or four, 60% of more; any one when
that finds fewer than ``RELAX_BELOW``), or every *head* term: the words said
before "for", "in" or "across" say what is asked for, those after it where or
for whom (*context* terms), so a game matches "games for the desktop" whether
or not it says "desktop". Listings that match every term rank above the
others. Then the backend's text score decides (BM25: rarer words weigh more).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from core.text import typed
from search.fts_text import (
    MAX_WORD_LENGTH,
    MAX_WORDS,
    WORD,
    WRITTEN_SYMBOL_WORDS,
    name_key,
    symbol_words_spelt,
)
from search.interfaces import MAX_QUERY_LENGTH
from search.synonyms import stem

# Words that say nothing about what a listing does. English function words, and
# words every listing in an app marketplace could use of itself.
STOPWORDS = frozenset("""
a an and are as at be but by can do does for from has have how i if in into is it its
me my no not of on or our so than that the their them then there these they this to
too us was we what when where which who why will with without you your
app apps application applications software tool tools program programs
""".split())

# The words after which a query says where or for whom, not what: "games for
# the desktop", "comments for blog posts", "unify customer data across channels".
CONTEXT_WORDS = frozenset({"for", "in", "across"})

# Agent nouns ("editor") and their verbs ("edit"): suffixes tried both ways.
AGENT_SUFFIXES = ("er", "or")
MIN_AGENT_LENGTH = 6   # "editor", "viewer"; shorter -er words are rarely agents
MIN_VERB_LENGTH = 4    # "edit", "view"
# Verbs whose "-er" form is a different word ("form" -> "former").
NOT_AGENTS = frozenset("""
form post show cent corn numb mast cove ledge lett pape wint answ summ powe flow
""".split())

# A word's runs of letters and of digits ("k12": "k", "12"), and how many of them
# make it a word of parts ("b2b"); longer mixes are codes, not names.
_LETTERS_OR_DIGITS = re.compile(r"[^\W\d_]+|\d+")
MAX_APART_PARTS = 3
# Hyphenated words of a query, as written ("e-mail", "to-do").
_HYPHENATED = re.compile(r"[^\W_]+(?:[-\u2010\u2011][^\W_]+)+")


@dataclass(frozen=True)
class Concept:
    """Words of a query that mean one thing, and the other ways to say it.

    ``alternatives[0]`` is ``words``. Filled in by ``search.synonyms``."""

    start: int
    words: tuple[str, ...]
    alternatives: tuple[tuple[str, ...], ...]
    # The words are in the list as typed (not only by their stem: "surveyes" is
    # matched to the "survey" line, and still a typo).
    listed: bool = False


class Synonyms(Protocol):
    def expand(self, words: Sequence[str]) -> list[Concept]: ...


class NoSynonyms:
    """Every word is its own concept (no list loaded)."""

    def expand(self, words: Sequence[str]) -> list[Concept]:
        return [Concept(i, (word,), ((word,),)) for i, word in enumerate(words)]


@dataclass(frozen=True)
class Term:
    """One thing the query asks for: any alternative (a word or a phrase) matches."""

    words: tuple[str, ...]                       # the query's own words
    alternatives: tuple[tuple[str, ...], ...]    # alternatives[0] == words
    corrected: tuple[str, ...] = ()              # spelling corrections among them
    context: bool = False                        # said after a CONTEXT_WORDS word
    listed: bool = False                         # in the synonym list: a real word, no typo

    @property
    def written(self) -> str:
        """The term's words as a reader writes them ("cplusplus" as "c++")."""
        return " ".join(WRITTEN_SYMBOL_WORDS.get(word, word) for word in self.words)

    @property
    def single_word(self) -> str | None:
        return self.words[0] if len(self.words) == 1 else None

    def with_alternative(self, words: Sequence[str]) -> Term:
        """This term, also matched by ``words`` (one after the other when several)."""
        words = tuple(words)
        if words in self.alternatives:
            return self
        return replace(self, alternatives=self.alternatives + (words,))

    def with_corrections(self, corrections: Sequence[str]) -> Term:
        new = tuple(word for word in corrections if (word,) not in self.alternatives)
        if not new:
            return self
        return Term(self.words, self.alternatives + tuple((word,) for word in new),
                    self.corrected + new, self.context, self.listed)


@dataclass(frozen=True)
class QueryPlan:
    """A search text, analysed."""

    words: tuple[str, ...]          # every word, stopwords too (exact names, prefixes)
    terms: tuple[Term, ...]         # what listings are matched on
    required: int                   # how many terms a listing must match (or every head term)
    # The last word, when it may be unfinished (typed into the box): it also
    # matches the start of a word of a listing's name.
    prefix: str | None = None
    notes: list[str] = field(default_factory=list, compare=False)

    @property
    def empty(self) -> bool:
        return not self.terms

    @property
    def head(self) -> tuple[int, ...]:
        """The positions of the head terms (said before "for", "in"...): a
        listing that matches all of them matches, whatever context terms it
        lacks. Empty when that adds nothing to ``required`` of the terms (no
        context terms, or at least ``required`` head terms)."""
        head = tuple(n for n, term in enumerate(self.terms) if not term.context)
        return head if len(head) < self.required else ()

    @property
    def name_keys(self) -> list[str]:
        """The names (as ``fts_text.name_key``s: words without accents joined by
        single spaces) the query asks for exactly: its words, its words with two
        neighbours run together ("sign right": "signright", "word press backups":
        "wordpress backups") or with letters and digits apart ("ledgerly2": "ledgerly
        2"), and its corrected text."""
        keys = self.typed_name_keys
        corrected = self.corrected_text
        if corrected:
            keys.append(name_key(WORD.findall(symbol_words_spelt(corrected.lower()))))
        return list(dict.fromkeys(key for key in keys if key))

    @property
    def typed_name_keys(self) -> list[str]:
        """``name_keys`` but the corrected text's: the words as typed, with two
        neighbours run together, and with letters and digits apart ("k12": "k 12"),
        which is what a name "starts with the query" with."""
        keys = [name_key(self.words)]
        words = list(self.words)
        apart = [" ".join(letters_and_digits_apart(word) or (word,)) for word in words]
        if apart != words:
            keys.append(name_key(apart))
        if len(words) <= MAX_JOINED_TERMS:
            keys += [name_key([*words[:n], words[n] + words[n + 1], *words[n + 2:]])
                     for n in range(len(words) - 1)]
        return list(dict.fromkeys(key for key in keys if key))

    @property
    def run_together(self) -> frozenset[str]:
        """Each two neighbouring words of the text run together ("sign right":
        "signright"), the forms ``_joined_neighbours`` adds as alternatives."""
        return frozenset(a + b for a, b in zip(self.words, self.words[1:]))

    def run_together_with(self, term: Term) -> list[str]:
        """The words ``term``'s word makes run together with a neighbouring word of
        the text (its alternatives among ``run_together``: "flow" in "clinic flow"
        gives "clinicflow")."""
        run_together = self.run_together
        return [words[0] for words in term.alternatives[1:]
                if len(words) == 1 and words[0] in run_together]

    def term_words(self) -> tuple[str, ...]:
        """The query's own words that are terms (no stopwords), in order."""
        return tuple(word for term in self.terms for word in term.words)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Neighbouring words of the query ("git client"; "drag and drop" gives
        drag, drop): a listing that has them close together ranks higher."""
        words = [term.single_word for term in self.terms]
        return [(a, b) for a, b in zip(words, words[1:]) if a and b]

    def with_terms(self, terms: Sequence[Term]) -> QueryPlan:
        return QueryPlan(self.words, tuple(terms), self.required, self.prefix)

    def term_alone(self, position: int) -> QueryPlan:
        """The plan of one of its terms alone: the listings that match that term."""
        return replace(self, terms=(self.terms[position],), required=1)

    def in_summary(self) -> QueryPlan:
        """The plan the all-terms tier asks of what a listing says it is (its name,
        tagline, tags, category): this one, but a word alone is taken as finished, not
        as the start of a word being typed ("chat" in a tagline, not "chatterbox"),
        where the name tiers already rank the names it starts."""
        return self if len(self.terms) > 1 else replace(self, prefix=None)

    def relaxed(self) -> QueryPlan | None:
        """The plan that lets a listing match any one term, or None when this
        one already does."""
        if self.required <= 1:
            return None
        return QueryPlan(self.words, self.terms, 1, self.prefix)

    @property
    def corrected_words(self) -> tuple[str, ...]:
        """The words as typed that were given a spelling correction."""
        return tuple(term.words[0] for term in self.terms
                     if term.corrected and term.single_word)

    @property
    def corrected_text(self) -> str | None:
        """The query with every corrected word replaced by its first correction,
        or None when nothing was corrected ("cplusplus" written "c++" again)."""
        replaced = {term.words[0]: term.corrected[0] for term in self.terms
                    if term.corrected and term.single_word}
        if not replaced:
            return None
        return " ".join(replaced.get(word, WRITTEN_SYMBOL_WORDS.get(word, word))
                        for word in self.words)


# When fewer listings than this match at least half the terms, listings that
# match any one term come back as well (ranked below): a page is never left
# short while something relevant exists.
RELAX_BELOW = 10


def required_terms(count: int) -> int:
    """How many of ``count`` terms a listing must match: all of one or two, all
    but one of three or four, and 60% (rounded up) of five or more. (When that
    finds fewer than ``RELAX_BELOW``, any one term will do.)"""
    if count <= 2:
        return count
    if count <= 4:
        return count - 1
    return math.ceil(count * 0.6)


def query_words(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """The words of ``text`` (lowercase letters and digits, as
    ``fts_text.words_of``) and the (start, end) word ranges that were written
    as one hyphenated word."""
    text = symbol_words_spelt(typed(text or "")[:MAX_QUERY_LENGTH].lower())
    words: list[str] = []
    hyphenated: list[tuple[int, int]] = []
    position = 0
    for match in re.finditer(r"[^\W_]+(?:[-\u2010\u2011][^\W_]+)*", text):
        parts = WORD.findall(match.group())
        if len(words) + len(parts) > MAX_WORDS:
            parts = parts[:MAX_WORDS - len(words)]
        if not parts:
            break
        if len(parts) > 1 and _HYPHENATED.fullmatch(match.group()):
            hyphenated.append((position, position + len(parts)))
        words.extend(part[:MAX_WORD_LENGTH] for part in parts)
        position += len(parts)
    return words, hyphenated


def letters_and_digits_apart(word: str) -> tuple[str, ...] | None:
    """``word``'s letters and digits as the words apart a name writes them as ("k12":
    "k", "12" for "K-12"; "h264": "H.264"; "ledgerly2": "Ledgerly 2"), or None for a
    word of letters only or of digits only, or of more than ``MAX_APART_PARTS``."""
    parts = tuple(_LETTERS_OR_DIGITS.findall(word))
    return parts if 1 < len(parts) <= MAX_APART_PARTS else None


def agent_variants(word: str) -> tuple[str, ...]:
    """Other forms of an agent noun or its verb: editor -> edit; scheduler ->
    schedule; planner -> plan; edit -> editor; schedule -> scheduler. Some of
    these are not words ("reminde"): they simply match nothing."""
    if not word.isalpha():
        return ()
    variants: list[str] = []
    if len(word) >= MIN_AGENT_LENGTH and word.endswith(AGENT_SUFFIXES):
        stem = word[:-2]
        variants += [stem, stem + "e"]
        if len(stem) >= 4 and stem[-1] == stem[-2]:       # planner -> plan
            variants.append(stem[:-1])
    elif (len(word) >= MIN_VERB_LENGTH and word not in NOT_AGENTS and word not in STOPWORDS
          and not word.endswith("s")):  # "teams", "salons": plurals, not verbs
        if word.endswith("te"):
            variants += [word + "r", word[:-1] + "or"]     # generate -> generator
        elif word.endswith("e"):
            variants.append(word + "r")                    # schedule -> scheduler
        elif word.endswith("t"):
            variants += [word + "or", word + "er"]         # edit -> editor
        else:
            variants.append(word + "er")                   # view -> viewer
    return tuple(variant for variant in variants if variant != word)


def analyse(text: str, synonyms: Synonyms | None = None) -> QueryPlan:
    """The terms of a search text, their variants and the match ladder.

    Every word that is not a stopword is a term of its own, so a listing that
    has some of a phrase's words still matches some terms. A synonym of several
    words ("event tickets" -> "ticket sales") is an alternative of each of its
    words: a listing that says "ticket sales" matches both terms."""
    words, hyphenated = query_words(text)
    concepts = (synonyms or NoSynonyms()).expand(words)
    listed = {concept.start for concept in concepts if concept.listed}
    concepts = _join_hyphenated(concepts, hyphenated)
    # The first context word that is a word of its own (not in "log in", say).
    marker = next((c.start for c in concepts if len(c.words) == 1 and len(c.alternatives) == 1
                   and c.words[0] in CONTEXT_WORDS), len(words))
    terms: list[Term] = []
    for concept in concepts:
        context = concept.start >= marker
        others = [alternative for alternative in concept.alternatives[1:]
                  if alternative != concept.words]
        meaningful = [word for word in concept.words if not _is_stopword(word)]
        in_list = concept.start in listed and len(concept.alternatives) > 1
        if not meaningful and others:
            # Only stopwords, but the list knows them ("to do" -> "todo").
            terms.append(Term(concept.words, tuple(dict.fromkeys([concept.words, *others])),
                              context=context, listed=in_list))
            continue
        for word in meaningful:
            alternatives = [(word,), *others]
            if not others:
                # Only forms the stemmer does not already make the same word
                # ("manager" -> "manage" is one stem: counting it twice would
                # double the word's weight in a text score that sums alternatives).
                alternatives += [(variant,) for variant in agent_variants(word)
                                 if stem(variant) != stem(word)]
                # "k12" is also "K-12", "h264" "H.264", as "e-signature" is also
                # "esignature" (the synonym list, when it knows the word, decides).
                apart = letters_and_digits_apart(word)
                if apart:
                    alternatives.append(apart)
            terms.append(Term((word,), tuple(dict.fromkeys(alternatives)), context=context,
                              listed=in_list))
    if all(term.context for term in terms):
        # Nothing before the context word ("for teams"): then it is what was asked for.
        terms = [replace(term, context=False) for term in terms]
    if not terms and words:
        # Only stopwords ("the who"): then they are what was asked for.
        terms = [Term((word,), ((word,),)) for word in dict.fromkeys(words)]
    terms = _joined_neighbours(_unique(terms), words, hyphenated)
    # The last word may be the one being typed ("capac": Capacity), unless something
    # follows it: "c++" and "C#" ask for a language, not for every name with a C.
    typing = words and len(words[-1]) < MAX_WORD_LENGTH and _ends_in_a_word(text)
    return QueryPlan(tuple(words), tuple(terms), required_terms(len(terms)),
                     words[-1] if typing else None)


def _ends_in_a_word(text: str) -> bool:
    """Whether ``text`` (as ``query_words`` reads it) ends with a letter or digit."""
    end = typed(text or "")[:MAX_QUERY_LENGTH].rstrip()[-1:]
    return end.isalnum()


# Run together only in short queries: names are short, and each pair adds clauses.
MAX_JOINED_TERMS = 4


def _joined_neighbours(terms: list[Term], words: Sequence[str],
                       hyphenated: Sequence[tuple[int, int]]) -> list[Term]:
    """Two neighbouring words of the query, run together, as an alternative of
    each: "sign right" also finds "SignRight", "word press" "WordPress" (a listing
    with the one word matches both terms). Only words next to each other in the
    text, each a term of its own or a stopword starting the text before one
    (``_starts_a_name``: "my sql" finds "MySQL", "in box" "Inbox"), and not part of a
    hyphenated word (which has its own joined form: "x-ray")."""
    if not 1 <= len(terms) <= MAX_JOINED_TERMS:
        return terms
    plain = {term.single_word: n for n, term in enumerate(terms) if term.single_word}
    in_hyphenated = {n for start, end in hyphenated for n in range(start, end)}
    extra: dict[int, list[tuple[str, ...]]] = {}
    for position, (first, second) in enumerate(zip(words, words[1:])):
        if position in in_hyphenated or position + 1 in in_hyphenated or first == second:
            continue
        joined = (first + second,)
        if first in plain and second in plain:
            extra.setdefault(plain[first], []).append(joined)
        if second in plain and (first in plain or _starts_a_name(first, position)):
            extra.setdefault(plain[second], []).append(joined)
    if not extra:
        return terms
    return [replace(term, alternatives=tuple(dict.fromkeys((*term.alternatives,
                                                            *extra[n]))))
            if n in extra else term for n, term in enumerate(terms)]


def reanalysed(plan: QueryPlan, synonyms: Synonyms | None = None) -> QueryPlan:
    """A plan with spelling corrections, analysed again from its corrected text,
    so that a corrected word gets its synonyms and variants too ("knowlege base"
    -> "knowledge base", whose synonyms the typo hid). Each corrected word's term
    keeps the word as typed as an alternative, so nothing it finds is lost."""
    text = plan.corrected_text
    if not text:
        return plan
    typed = {term.corrected[0]: term.words[0] for term in plan.terms
             if term.corrected and term.single_word}
    # The typed words run together ("word press": "wordpress") stay alternatives
    # of the terms they came from, whatever either word was corrected to.
    joined = plan.run_together
    kept = {term.words[0]: [alt for alt in term.alternatives if alt[0] in joined]
            for term in plan.terms if term.single_word}
    terms = []
    for term in analyse(text, synonyms).terms:
        original = typed.get(term.single_word or "")
        if original:
            term = Term((original,), tuple(dict.fromkeys(((original,), *term.alternatives))),
                        (term.words[0],), term.context)
        own = kept.get(term.words[0]) if term.single_word else None
        if own:
            term = replace(term, alternatives=tuple(dict.fromkeys((*term.alternatives, *own))))
        terms.append(term)
    return QueryPlan(plan.words, tuple(terms), required_terms(len(terms)), plan.prefix)


def _is_stopword(word: str) -> bool:
    return word in STOPWORDS or (len(word) == 1 and not word.isdigit())


def _starts_a_name(word: str, position: int) -> bool:
    """Whether ``word``, a stopword at ``position`` in the text, may be the first half
    of a name with the word after it ("My" of "MySQL", "In" of "InVision"): only as
    the text's first word, where a name starts; inside a sentence it is the sentence's
    ("translate my website" is no "MyWebsite", "Ledgerly for Salesforce" no
    "forsalesforce"). Not a lone letter ("a friend" is no "afriend")."""
    return position == 0 and word in STOPWORDS and len(word) > 1


def _join_hyphenated(concepts: list[Concept], hyphenated: list[tuple[int, int]]) -> list[Concept]:
    """A hyphenated word the synonym list did not cover becomes one concept:
    the words as a phrase, or run together ("e-signature" -> "esignature")."""
    for start, end in hyphenated:
        inside = [c for c in concepts if start <= c.start < end]
        covered = any(c.start < start < c.start + len(c.words) for c in concepts)
        if covered or any(len(c.alternatives) > 1 or c.start + len(c.words) > end
                          for c in inside):
            # The synonym list knows these words ("sign-on" in "single sign-on"): it decides.
            continue
        words = tuple(word for c in inside for word in c.words)
        joined = Concept(start, words, (words, ("".join(words),)))
        concepts = [c for c in concepts if c not in inside]
        concepts.append(joined)
    return sorted(concepts, key=lambda c: c.start)


def _unique(terms: list[Term]) -> list[Term]:
    """A word said twice is one term ("crm crm" is "crm")."""
    seen: set[tuple[str, ...]] = set()
    unique = []
    for term in terms:
        if term.words not in seen:
            seen.add(term.words)
            unique.append(term)
    return unique
