"""The OpenSearch clauses for the text of a search, from an analysed query
(``search.analysis.QueryPlan``). Pure functions: no I/O, no ``opensearchpy``.

Each term of the query becomes one clause that matches when any of its
alternatives does (a word in any text field, or a phrase), or, with a typo, a
word within an edit or two of it (``fuzziness: AUTO``) in the name, tagline,
tags or category, or within one edit in the description (the cheaper form:
a longer common prefix and fewer expansions).

A listing must match ``plan.required`` of the term clauses
(``minimum_should_match``), or every head term's (``QueryPlan.head``: the words
before "for", "in"...). Ranking:

- an exact name (case and accents ignored) first, whatever else matches;
- then the name the query is with its last word finished ("serv": *Serve*);
- then the listings that match every term exactly (as written, or by a
  synonym) in their name, tagline, tags or category:
  ``ALL_TERMS_BOOST``, far above any text score, lifts them above those that
  match only some terms, some with a typo, or some only in their description;
- then by text relevance (BM25 across the fields, the name weighing most,
  neighbouring words of the query found close together, and a phrase of the
  name, a little more), lifted a little by popularity.

User text only ever appears as the value of match-style clauses (``match``,
``multi_match``, ``match_phrase``), as a ``term`` value on a keyword field, or as
words of ASCII letters and digits (literal in Lucene's regular expressions) in a
``regexp``: it is never parsed as query syntax.
"""

from __future__ import annotations

import re

from core.text import typed, unaccented
from search.analysis import QueryPlan, Term
from search.fts_text import WRITTEN_SYMBOL_WORDS
from search.interfaces import MAX_QUERY_LENGTH
from search.synonyms import OPENSEARCH_STOPWORDS

# An exact (case- and accent-insensitive) name match outranks anything else.
EXACT_NAME_BOOST = 1_000_000.0
# The name the query is with its last word finished ("serv": *Serve*), as when Enter
# was pressed before the word was: below an exact name, above every term matched.
COMPLETED_NAME_BOOST = 50_000.0
# Added when every term matches exactly: more than any text score can reach.
ALL_TERMS_BOOST = 10_000.0
# Popularity multiplies a term's text score by 1 + these * log10(1 + value): at
# most about x1.6 for a million installs and a thousand reviews, so it reorders
# close matches without swamping relevance.
RATING_COUNT_WEIGHT = 0.1
INSTALLS_WEIGHT = 0.05
RATING_AVERAGE_WEIGHT = 0.02  # 5 stars -> +0.1

# Every word of the text fields, unstemmed, in one field (the mapping's copy_to):
# spelling suggestions, and phrases with small words (``PLAIN_FIELDS``).
SPELL_FIELD = "spell"
# The local index's weights (search.tantivy_schema.TEXT_FIELDS: every field in
# all_text at 3, plus the field's own): a description says what a listing does
# nearly as much as its name does. Measured on bench/relevance with category
# feedback: topical P@10 0.769 with name^3, tagline^2, description, tags^2,
# category^1.5; 0.788 with these.
TEXT_FIELDS = ["name^4", "tagline^4", "description^3", "tags^4", "category^3.5", "partner"]
FUZZY_FIELDS = ["name.plain^4", "tagline^1.5", "tags", "category"]
# What a listing says it is, as against its description (which mentions a hundred
# things): every term of a query in these is the all-terms tier.
SUMMARY_FIELDS = ["name", "tagline", "tags", "category"]
# Typo matches count for less than real ones of the same field.
FUZZY_BOOST = 0.5
MIN_FUZZY_LENGTH = 4
# In names, taglines, tags and categories: no typo below five letters, one edit up
# to seven, two from eight. The stemmed fields count the letters of the stem: with
# OpenSearch's AUTO (one edit from three letters, two from six) "shipping" (ship)
# matched "shops" (shop), "cake" matched "café" and "postage" (postag) "posts".
FUZZINESS = "AUTO:5,8"


def clean_text(text: str | None) -> str:
    """User text as we search for it: as typed (``core.text.typed``), at most
    MAX_QUERY_LENGTH characters, whitespace collapsed. Nothing else is removed: the
    analyzers drop punctuation, and the text is only ever a value, never syntax."""
    return " ".join(typed(text or "").split())[:MAX_QUERY_LENGTH].strip()


def fold(text: str) -> str:
    """Lowercase and strip accents, like the ``folded`` normalizer, for the values
    we send to ``term``/``prefix`` queries on ``name.keyword`` (not every
    OpenSearch version runs the normalizer on those)."""
    return unaccented(text).lower()


def popularity(query: dict) -> dict:
    """Wrap ``query`` so ratings and installs lift its score, log-scaled.

    ``boost_mode: multiply`` with a constant 1 among the summed functions means
    score x (1 + small lift): relevance decides, popularity reorders near-ties.
    """
    def factor(field: str, weight: float, modifier: str = "log1p") -> dict:
        return {"field_value_factor": {"field": field, "modifier": modifier, "missing": 0},
                "weight": weight}

    return {"function_score": {
        "query": query,
        "functions": [
            {"weight": 1},
            factor("rating_count", RATING_COUNT_WEIGHT),
            factor("installs", INSTALLS_WEIGHT),
            factor("rating_average", RATING_AVERAGE_WEIGHT, modifier="none"),
        ],
        "score_mode": "sum",
        "boost_mode": "multiply",
    }}


# The term clauses already hold every synonym (``search.analysis``): they are
# analysed without the index's synonym filter, or each would expand again.
PLAIN_ENGLISH = "english_folded"


# Where the words of a field are also kept as written, stopwords too, each given the
# boost of the English field it stands for: the name's and tagline's ``plain`` fields,
# and for the description the spelling field, every text field's words, with their
# positions (a description's own plain field took a rebuild of 100,000 listings from
# 14.4 to 16.4 s; keeping stopwords in the English fields themselves lowered topical
# P@10 on bench/relevance from 0.807 to 0.796).
PLAIN_FIELDS = {"name": "name.plain", "tagline": "tagline.plain", "description": SPELL_FIELD}
PLAIN_ANALYZER = "plain_folded"


def _alternative(words: tuple[str, ...], fields: list[str] = TEXT_FIELDS) -> dict:
    text = " ".join(words)
    if len(words) == 1:
        return {"multi_match": {"query": text, "type": "cross_fields", "fields": fields,
                                "tie_breaker": 1.0, "analyzer": PLAIN_ENGLISH}}
    if words and (words[0] in OPENSEARCH_STOPWORDS or words[-1] in OPENSEARCH_STOPWORDS):
        # The English fields keep no stopwords, so there "log in" would be "log" alone
        # and "no code" every "code": a phrase that starts or ends with one is matched
        # where the words are kept as written (a stopword inside, as in "speech to
        # text", leaves a gap the English phrase still keeps).
        plain = []
        for field in fields:
            name, _, boost = field.partition("^")
            if name in PLAIN_FIELDS:
                plain.append(PLAIN_FIELDS[name] + (f"^{boost}" if boost else ""))
        if not plain:  # no fields at all would mean every field of the index
            return {"match_none": {}}
        # Lenient: in an index made before the spelling field kept positions (settings
        # 6, until it is rebuilt) the phrase finds nothing there instead of failing.
        return {"multi_match": {"query": text, "type": "phrase", "fields": plain,
                                "analyzer": PLAIN_ANALYZER, "lenient": True}}
    return {"multi_match": {"query": text, "type": "phrase", "fields": fields,
                            "analyzer": PLAIN_ENGLISH}}


def _exact(term: Term, prefix: str | None, fields: list[str] = TEXT_FIELDS) -> list[dict]:
    clauses = [_alternative(alternative, fields) for alternative in term.alternatives]
    if prefix:
        # The word being typed: the start of a word of the name ("chatt").
        clauses.append({"match": {"name.edge": {"query": prefix, "boost": 2}}})
    return clauses


def _fuzzy(term: Term) -> list[dict]:
    word = term.single_word
    if not word or len(word) < MIN_FUZZY_LENGTH or word.isdigit():
        return []
    return [
        *([{"multi_match": {"query": word, "fields": FUZZY_FIELDS, "fuzziness": FUZZINESS,
                            "prefix_length": 1, "max_expansions": 20, "boost": FUZZY_BOOST}}]
          if len(word) > MIN_FUZZY_LENGTH else []),
        # Descriptions are long and many: one edit, the first three letters right.
        {"match": {"description": {"query": word, "fuzziness": 1, "prefix_length": 3,
                                   "max_expansions": 10, "boost": FUZZY_BOOST}}},
    ]


def _prefix_for(plan: QueryPlan, position: int) -> str | None:
    last = position == len(plan.terms) - 1
    term = plan.terms[position]
    return plan.prefix if last and term.single_word == plan.prefix else None


# In a regular expression on ``name.keyword``: a character between two words of a name
# (a space, hyphen, dot...), for the names typed without them.
NAME_SEPARATOR = "[^a-z0-9]"
_LETTERS_AND_DIGITS = re.compile(r"[a-z0-9]+")


def _completed_name(plan: QueryPlan) -> list[dict]:
    """The clause for the names the query's words are with the last one finished ("is
    symbo": *is-symbol*), on ``name.keyword`` (folded, punctuation kept), as the embedded
    indexes' name tiers have it; none when a word holds anything but ASCII letters and
    digits, the only word characters ``NAME_SEPARATOR`` knows (and literal in Lucene's
    regular expressions), or is a language written with a symbol (its spelt-out word
    is not in the name as written: "cplusplus" for "C++"). A query has at most
    ``MAX_WORDS`` words, which keeps the expression far below OpenSearch's limit on
    its length."""
    words = [fold(word) for word in plan.words]
    if not words or not all(_LETTERS_AND_DIGITS.fullmatch(word)
                            and word not in WRITTEN_SYMBOL_WORDS for word in words):
        return []
    gap = NAME_SEPARATOR
    # Punctuation may start and end the name ("@babel/cor": *@babel/core*). The clause
    # costs a search about 0.4 ms (paired, at 10,000 and at 100,000 listings), whatever
    # its shape: without the gaps it cost the same.
    value = f"{gap}*" + f"{gap}+".join(words) + f"[a-z0-9]+{gap}*"
    return [{"constant_score": {"filter": {"regexp": {"name.keyword": {"value": value}}},
                                "boost": COMPLETED_NAME_BOOST}}]


def _any(clauses: list[dict]) -> dict:
    return clauses[0] if len(clauses) == 1 else {"dis_max": {"queries": clauses}}


def term_filters(plan: QueryPlan, typos: bool = True) -> list[dict]:
    """Which listings each term matches (no scoring): exactly, by a synonym or (with
    ``typos``) with a typo."""
    return [_any(_exact(term, _prefix_for(plan, n)) + (_fuzzy(term) if typos else []))
            for n, term in enumerate(plan.terms)]


def text_filter(plan: QueryPlan) -> dict:
    """Which listings the text matches (no scoring): ``required`` of the terms
    (``term_filters``). For facet scopes and counts."""
    return _matching(plan, term_filters(plan))


def _matching(plan: QueryPlan, clauses: list[dict]) -> dict:
    """``plan.required`` of the term clauses, or every head term's: the head
    terms together count as the terms still missing (and score nothing)."""
    head = [clauses[n] for n in plan.head]
    together = [{"bool": {"filter": head}}] * (plan.required - len(head)) if head else []
    return {"bool": {"should": clauses + together, "minimum_should_match": plan.required}}


def text_query(plan: QueryPlan, corrected_name: str | None = None) -> dict:
    """What a search matches and how well (see the module docstring).
    ``corrected_name``: the corrected text, which as a name is exact too."""
    terms = []
    tiered = []  # every one of these: the all-terms tier
    in_summary = plan.in_summary()
    for n, term in enumerate(plan.terms):
        exact = _any(_exact(term, _prefix_for(plan, n)))
        # Each term as typed (not only with a typo) in what the listing says it is
        # (SUMMARY_FIELDS), not only in its description.
        tiered.append(_any(_exact(term, _prefix_for(in_summary, n), SUMMARY_FIELDS)))
        fuzzy = _fuzzy(term)
        terms.append({"bool": {"should": [exact, *fuzzy]}} if fuzzy else exact)
    text = " ".join(plan.words)
    # The name as typed, with two neighbouring words run together ("sign right":
    # "signright"), and as corrected (QueryPlan.name_keys).
    names = list(dict.fromkeys([fold(text), *map(fold, plan.name_keys),
                                fold(corrected_name or text)]))
    matching = _matching(plan, terms)
    return {"bool": {
        # Popularity lifts the text score only, never the tiers below.
        "must": [popularity(matching)],
        "should": [
            # name.key: the name's words ("node js profiler" is "Node.js Profiler");
            # name.keyword as well for an index made before it had name.key.
            {"constant_score": {"filter": {"bool": {"should": [
                {"terms": {"name.key": names}}, {"terms": {"name.keyword": names}}]}},
                                "boost": EXACT_NAME_BOOST}},
            *_completed_name(plan),
            # Every term, as written or by a synonym: these rank above the rest.
            {"constant_score": {"filter": {"bool": {"must": tiered}},
                                "boost": ALL_TERMS_BOOST}},
            _name_phrase(plan, text),
            # Neighbouring words found close together ("git client").
            *[{"multi_match": {"query": " ".join(pair), "type": "phrase", "slop": 2,
                               "fields": TEXT_FIELDS, "analyzer": PLAIN_ENGLISH}}
              for pair in plan.pairs],
        ],
    }}


def _name_phrase(plan: QueryPlan, text: str) -> dict:
    """The query's words one after the other in the name, by their stems ("safer
    buffers": *safer-buffer*), at ten times its text score. The name's analyzer drops
    stopwords ("is streams" is *stream*): those of the query must be words of the
    name as well (*is-stream*, not every name with "stream")."""
    phrase = {"match_phrase": {"name": {"query": text, "boost": 10}}}
    stopwords = dict.fromkeys(word for word in map(fold, plan.words)
                              if word in OPENSEARCH_STOPWORDS)
    if not stopwords:
        return phrase
    return {"bool": {"must": [phrase],
                     "filter": [{"term": {"name.plain": word}} for word in stopwords]}}
