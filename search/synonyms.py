"""Search synonyms: the curated list in ``search/synonyms.txt`` plus the lines
editors add in the console, checked, merged and applied to a query's words.

The format is Solr's, which OpenSearch's synonym_graph filter reads as is
(https://opensearch.org/docs/latest/analyzers/token-filters/synonym/):

- ``a, b, c``: equivalent terms; a search for any of them also searches the others.
- ``a => b, c``: one way; a search for ``a`` also searches ``b`` and ``c`` (it keeps
  ``a`` itself, unlike Solr's bare replacement), a search for ``b`` only ``b``.

A term is split into words exactly as the query side splits a query
(``search.fts_text.words_of``: "E-Mail" -> ("e", "mail")), and compared by the
words' English Snowball stems (what the index matches on too), so "invoices"
uses the rule for "invoice". A term belongs to one line only, so every term
expands one way, and no one-way rule may loop.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import snowballstemmer
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from accounts.models import User
from core.setting_parsers import ConfigError
from core.text import unaccented
from listings.services import audit
from search.fts_text import words_of
from search.models import SynonymRule

log = logging.getLogger(__name__)

DEFAULT_SYNONYMS_FILE = Path(__file__).resolve().parent / "synonyms.txt"
MAX_TERM_WORDS = 4      # longer phrases are descriptions, not names of a thing
MAX_LINE_TERMS = 20
MAX_LINE_LENGTH = 500
ONE_WAY = "=>"
VERSION_LINE = re.compile(r"#\s*version\s*:\s*(\S+)", re.IGNORECASE)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
EXAMPLE = "e.g. 'email, e-mail, mail' or 'payslip => payroll'"

Words = tuple[str, ...]


class SynonymLineError(ValueError):
    """A synonym line that cannot be used; the message is one sentence for the editor."""


class SynonymFileError(ConfigError):
    """The synonym file is missing or invalid. A ``ConfigError``, so start-up stops
    with this one line (``path:line: what is wrong``), like a bad setting."""


# --- words and stems ------------------------------------------------------------------

_stemmers = threading.local()  # a Snowball stemmer keeps state while it works


@lru_cache(maxsize=20_000)
def stem(word: str) -> str:
    """The English Snowball (Porter2) stem of a normalised word: "invoices" -> "invoic"."""
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word)


def key_of(words: Sequence[str]) -> Words:
    """What terms are compared by: the stems of their words, accents aside
    ("réservation" is "reservation", as every index matches it)."""
    return tuple(stem(unaccented(word)) for word in words)


# --- one line -------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One term of a line: how it is shown, and the words it is searched as."""

    text: str    # as written, lowercase, spaces tidied: "e-mail"
    words: Words  # as searched: ("e", "mail")

    @property
    def key(self) -> Words:
        return key_of(self.words)


@dataclass(frozen=True)
class SynonymLine:
    """One parsed rule. ``sources`` are the terms that expand: every term of an
    equivalence line, the left side of a one-way line; ``targets`` is the right
    side of a one-way line (empty for an equivalence line)."""

    sources: tuple[Term, ...]
    targets: tuple[Term, ...] = ()

    @property
    def one_way(self) -> bool:
        return bool(self.targets)

    @property
    def terms(self) -> tuple[Term, ...]:
        return self.sources + self.targets

    @property
    def text(self) -> str:
        """The line as stored and shown: "e-mail, email, mail", "payslip => payroll"."""
        left = ", ".join(term.text for term in self.sources)
        if not self.one_way:
            return left
        return f"{left} {ONE_WAY} " + ", ".join(term.text for term in self.targets)

    def expansions(self, term: Term) -> tuple[Term, ...]:
        """The other terms a search for ``term`` (a term of this line) also searches."""
        if term not in self.sources:
            return ()  # a one-way target searches only itself
        if self.one_way:
            return self.targets
        return tuple(other for other in self.sources if other != term)

    def solr(self) -> list[str]:
        """Solr lines with words space-separated (the search analyzer splits "e-mail"
        the same way). A one-way source is kept on its right side, so OpenSearch
        expands as the query side does instead of replacing the word.

        OpenSearch reads a line through the search analyzer, whose stop filter comes
        first: "log in" would be "log", and "login, log in, sign in" would make "log"
        and "sign" the same word. A term that its stopwords leave one word of is
        left out (the embedded indexes match it whole); a line left with one term
        has nothing to say."""
        def spaced(terms) -> list[str]:
            return [" ".join(term.words) for term in terms if not _rests_on_stopwords(term)]

        if not self.one_way:
            sources = spaced(self.sources)
            return [", ".join(sources)] if len(sources) > 1 else []
        targets = spaced(self.targets)
        if not targets:
            return []
        return [f"{source} {ONE_WAY} " + ", ".join([source, *targets])
                for source in spaced(self.sources)]


# Lucene's English stop set: what OpenSearch's `_english_` stop filter removes.
OPENSEARCH_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their "
    "then there these they this to was will with".split())


def _rests_on_stopwords(term: Term) -> bool:
    """Whether ``term`` has several words of which all but one are stopwords
    ("log in", "no code", "not for profit"): OpenSearch would read it as that one."""
    kept = [word for word in term.words if word not in OPENSEARCH_STOPWORDS]
    return len(term.words) > 1 and len(kept) <= 1


def _parse_term(raw: str) -> Term:
    # Control characters (a corrupt file) are shown as "?" so a message stays one line.
    text = CONTROL.sub("?", " ".join(raw.split()).lower())
    if not text:
        raise SynonymLineError(f"There is an empty term: write terms separated by commas, "
                               f"{EXAMPLE}.")
    all_words = words_of(text)
    if not all_words:
        raise SynonymLineError(f"'{text}' has no letters or digits, so search cannot use it.")
    if len(all_words) > MAX_TERM_WORDS:
        raise SynonymLineError(f"'{text}' has {len(all_words)} words; a term may have at most "
                               f"{MAX_TERM_WORDS}.")
    return Term(text, tuple(all_words))


def _parse_side(raw: str) -> list[Term]:
    return [_parse_term(part) for part in raw.split(",")]


def parse_line(raw: str) -> SynonymLine:
    """Parse one synonym line, checking it on its own (``SynonymSet.check`` then
    checks it against the other lines). Raises ``SynonymLineError``."""
    text = (raw or "").strip()
    if not text or text.startswith("#"):
        raise SynonymLineError(f"Type a synonym line, {EXAMPLE}.")
    if len(text) > MAX_LINE_LENGTH:
        raise SynonymLineError(f"The line has {len(text)} characters; at most "
                               f"{MAX_LINE_LENGTH}.")
    sides = text.split(ONE_WAY)
    if len(sides) > 2:
        raise SynonymLineError(f"Use '{ONE_WAY}' at most once on a line.")
    sources = _parse_side(sides[0])
    targets = _parse_side(sides[1]) if len(sides) == 2 else []
    terms = sources + targets
    if len(terms) > MAX_LINE_TERMS:
        raise SynonymLineError(f"The line has {len(terms)} terms; at most {MAX_LINE_TERMS}.")
    if len(terms) < 2:
        raise SynonymLineError(f"A synonym line needs at least two terms, {EXAMPLE}.")
    target_keys = {term.key: term for term in targets}
    for term in sources:
        if term.key in target_keys:
            raise SynonymLineError(f"This rule would loop: '{term.text}' would be replaced by "
                                   f"'{target_keys[term.key].text}', the same word.")
    seen: dict[Words, Term] = {}
    for term in terms:
        if term.key in seen:
            raise SynonymLineError(f"'{term.text}' repeats '{seen[term.key].text}' on this line "
                                   "(plurals and word endings already match).")
        seen[term.key] = term
    return SynonymLine(tuple(sources), tuple(targets))


# --- a set of lines ---------------------------------------------------------------------


@dataclass(frozen=True)
class Concept:
    """A stretch of the query's words and what else it may be searched as.
    ``alternatives[0]`` is the query's own words; the rest come from a synonym line."""

    start: int
    words: Words
    alternatives: tuple[Words, ...]
    # The words are in the line as typed, not only by their stem ("surveyes" is
    # expanded by the "survey" line, and still a typo).
    listed: bool = False


@dataclass
class SynonymSet:
    """Checked synonym lines, indexed for expanding queries. Built once (by
    ``load_synonym_file`` or ``SynonymStore.current``) and then only read."""

    file_version: str = ""
    editor_stamp: str = ""
    lines: list[SynonymLine] = field(default_factory=list)
    _terms: dict[Words, tuple[Term, SynonymLine]] = field(default_factory=dict, repr=False)

    @property
    def version(self) -> str:
        """The file's version, plus a stamp of the editors' lines when there are any:
        "2026-12-04.1" or "2026-12-04.1+editors.3.17"."""
        return f"{self.file_version}+{self.editor_stamp}" if self.editor_stamp else self.file_version

    def copy(self, editor_stamp: str = "") -> SynonymSet:
        return SynonymSet(self.file_version, editor_stamp, list(self.lines), dict(self._terms))

    def line_of(self, term_words: Sequence[str]) -> SynonymLine | None:
        found = self._terms.get(key_of(term_words))
        return found[1] if found else None

    def check(self, line: SynonymLine) -> None:
        """Raise ``SynonymLineError`` if ``line`` cannot join this set: a one-way
        rule that would loop, or a term already in another line."""
        if line.one_way:
            self._check_loop(line)
        for term in line.terms:
            if term.key in self._terms:
                other = self._terms[term.key][1]
                raise SynonymLineError(f"'{term.text}' is already in: {other.text}")

    def _check_loop(self, line: SynonymLine) -> None:
        # Each line leads from a term to what it searches; equivalence lines both ways.
        leads: dict[Words, list[Term]] = {}
        for other in [*self.lines, line]:
            for source in other.sources:
                leads.setdefault(source.key, []).extend(other.expansions(source))
        starts = {source.key for source in line.sources}
        for target in line.targets:
            path = self._path(target, starts, leads)
            if path:
                words = " => ".join(term.text for term in [line.sources[0], *path])
                raise SynonymLineError(f"This rule would loop: {words}.")

    @staticmethod
    def _path(start: Term, goals: set[Words], leads: dict[Words, list[Term]]) -> list[Term]:
        """A path of terms from ``start`` back to a term in ``goals`` (depth-first)."""
        stack, seen = [[start]], {start.key}
        while stack:
            path = stack.pop()
            for nxt in leads.get(path[-1].key, ()):
                if nxt.key in goals:
                    return [*path, nxt]
                if nxt.key not in seen:
                    seen.add(nxt.key)
                    stack.append([*path, nxt])
        return []

    def add(self, line: SynonymLine) -> None:
        """Check ``line`` against the set and add it (raises ``SynonymLineError``)."""
        self.check(line)
        self.lines.append(line)
        for term in line.terms:
            self._terms[term.key] = (term, line)

    def expand(self, words: Sequence[str]) -> list[Concept]:
        """The query's words (as ``words_of`` gives them) as concepts, left to right:
        at each position the longest term of a line (up to four words) that matches,
        else the word alone."""
        concepts: list[Concept] = []
        keys = key_of(words)
        position = 0
        while position < len(words):
            for size in range(min(MAX_TERM_WORDS, len(words) - position), 0, -1):
                found = self._terms.get(keys[position:position + size])
                if found:
                    term, line = found
                    own = tuple(words[position:position + size])
                    others = tuple(other.words for other in line.expansions(term))
                    concepts.append(Concept(position, own, (own, *others),
                                            listed=own == term.words))
                    position += size
                    break
            else:
                own = (words[position],)
                concepts.append(Concept(position, own, (own,)))
                position += 1
        return concepts

    def solr_lines(self) -> list[str]:
        """Every rule as a normalised Solr line, for an inline synonym_graph filter."""
        return [solr for line in self.lines for solr in line.solr()]


def load_synonym_file(path: str | Path) -> SynonymSet:
    """Read and check the synonym file. Raises ``SynonymFileError`` with one line
    naming the file (and the line number) when it is missing, unreadable, not
    UTF-8, has no ``# version:`` header, or has a line that cannot be used."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SynonymFileError(f"{path}: the synonym file does not exist "
                               "(SEARCH_SYNONYMS_FILE)") from None
    except OSError as error:
        raise SynonymFileError(f"{path}: the synonym file cannot be read "
                               f"({error.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise SynonymFileError(f"{path}:{line}: not UTF-8 text") from None
    synonyms = SynonymSet()
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            version = VERSION_LINE.match(stripped)
            if version and not synonyms.file_version:
                synonyms.file_version = version.group(1)
            continue
        try:
            synonyms.add(parse_line(stripped))
        except SynonymLineError as error:
            raise SynonymFileError(f"{path}:{number}: {error}") from None
    if not synonyms.file_version:
        raise SynonymFileError(f"{path}:1: no '# version: <version>' header line; the list "
                               "must say its version")
    return synonyms


# --- the editors' lines, from the database -------------------------------------------------


# The catalog's version (``listings.catalog_cache.current_token``) that the search
# being run was asked at; None outside ``at_catalog_version``.
_catalog_version: ContextVar[str | None] = ContextVar("synonyms_catalog_version", default=None)


@contextmanager
def at_catalog_version(token: str | None) -> Iterator[None]:
    """Within the block, ``SynonymStore.current`` may trust that the editors' lines are
    those it last checked at catalog version ``token``, read before the block began."""
    reset = _catalog_version.set(token)
    try:
        yield
    finally:
        _catalog_version.reset(reset)


class SynonymStore:
    """The file's rules plus the editors' (table ``search_synonyms``), shared by
    every backend. Each ``current()`` costs one small query (count and highest id of
    the editors' rows) so a line added in any process takes effect at once in all;
    rows are never edited and their ids never reused, so the two numbers change
    whenever the rows do.

    Within ``at_catalog_version(token)`` (a search page's search) the query is asked
    once per catalog version: adding or removing a line gives the catalog a new version
    (``search.init_app`` tracks ``SynonymRule`` in ``listings.catalog_cache``), so the
    rules checked after reading version ``token`` are still the rules at ``token``."""

    def __init__(self, engine: Engine, file_set: SynonymSet):
        self.engine = engine
        self.file_set = file_set
        # (stamp, rules, catalog version the stamp was read after, or None)
        self._cached: tuple[tuple[int, int], SynonymSet, str | None] = ((0, 0), file_set, None)

    def _stamp(self) -> tuple[int, int]:
        with self.engine.connect() as connection:
            count, highest = connection.execute(
                select(func.count(SynonymRule.id), func.max(SynonymRule.id))).one()
        return count, highest or 0

    def current(self) -> SynonymSet:
        """The rules in force now: rebuilt only when the editors' rules changed."""
        version = _catalog_version.get()
        cached_stamp, cached, checked_at = self._cached
        if version is not None and version == checked_at:
            return cached
        stamp = self._stamp()
        merged = cached if stamp == cached_stamp else self._merge(stamp)
        # One assignment: threads see the old or the new, whole. The stamp was read
        # after the caller read ``version``, so these rules are at least that new.
        self._cached = (stamp, merged, version)
        return merged

    def _merge(self, stamp: tuple[int, int]) -> SynonymSet:
        with Session(self.engine) as session:
            rows = session.exec(select(SynonymRule.id, SynonymRule.line)
                                .order_by(SynonymRule.id)).all()
        merged = self.file_set.copy(editor_stamp=f"editors.{stamp[0]}.{stamp[1]}")
        for rule_id, text in rows:
            try:
                merged.add(parse_line(text))
            except SynonymLineError as error:
                # Checked when added; only a newer file can conflict. Search goes on
                # with the file's rule, and the editors' page shows the line as skipped.
                log.warning("search synonym line %s (%r) skipped: %s", rule_id, text, error)
        return merged

    def check(self, text: str) -> SynonymLine:
        """Parse an editor's line and check it against the rules in force.
        Raises ``SynonymLineError`` with a sentence to show beside the field."""
        line = parse_line(text)
        self.current().check(line)
        return line

    def add(self, session: Session, text: str, actor) -> SynonymRule:
        """Check and save an editor's line, with an audit event; the view commits."""
        line = self.check(text)
        rule = SynonymRule(line=line.text, created_by=actor.id if actor else None)
        session.add(rule)
        session.flush()  # the audit event names the rule's id
        audit(session, actor, "search.synonym_add", rule, line=rule.line)
        return rule

    def remove(self, session: Session, rule: SynonymRule, actor) -> None:
        """Delete an editor's line, with an audit event; the view commits."""
        audit(session, actor, "search.synonym_remove", rule, line=rule.line)
        session.delete(rule)

    def editor_rules(self, session: Session) -> list[tuple[SynonymRule, str | None, bool]]:
        """The editors' rules, newest first: (rule, author's name, in force?)."""
        in_force = {line.text for line in self.current().lines[len(self.file_set.lines):]}
        rows = session.exec(select(SynonymRule, User.display_name)
                            .join(User, User.id == SynonymRule.created_by, isouter=True)
                            .order_by(SynonymRule.id.desc())).all()
        return [(rule, name, rule.line in in_force) for rule, name in rows]

