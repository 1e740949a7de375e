"""The OpenSearch index's settings and mapping: how a listing's text is analysed
(``ANALYSIS``) and which fields the index holds (``MAPPINGS``), with the bodies
that create a physical index and restore its settings after a bulk build. No I/O
here (``search.opensearch`` sends them); ``search.queries`` builds the requests
that search the index.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from search.fts_text import SYMBOL_WORDS
from search.opensearch_text import SPELL_FIELD

# Raised whenever ANALYSIS or MAPPINGS change in a way only a rebuild applies (an
# index keeps the settings it was made with): `flask search status` says so for an
# index made with another (``OpenSearchBackend.settings_outdated``).
SETTINGS_VERSION = 7

# Characters that part a word (the ``text_parts`` filter, below).
WORD_PARTS = "./\\@:'\u2019_"
# The name key's character filters, below.
NAME_KEY_SYMBOL_WORDS = ["symbol_words_plus", "symbol_words_sharp"]


def _text_parts_mappings() -> list[str]:
    """The rules of the ``text_parts`` character filter (a ``mapping`` filter, which
    reads each text once through a small automaton: the regular expressions it
    replaced took a third of a reindex, every description read by two of them)."""
    # Word parts: "Node.js", "A/B", "monday.com", "O'Brien", "pydantic_core": the
    # standard tokenizer keeps such a run as one token ('node.js', "o'brien"), so
    # "node" or "brien" was a word no listing had (and was "corrected"). Made the words
    # they are, as the embedded indexes and the query's words (search.fts_text.words_of)
    # have them ("Émile's": "emile", "s", as the possessive filter would leave it).
    # Hyphens stay: the tokenizer splits them.
    rules = [f"\\u{ord(part):04x}=>\\u0020" for part in WORD_PARTS]
    # Languages written with a symbol ("C++", "C#", "F#"), which the tokenizer reads as
    # a lone letter, spelt out as the other indexes and a query's words have them
    # (search.fts_text.SYMBOL_WORDS: "cplusplus"); as on SQLite's index, also after a
    # letter ("dc++": "dcplusplus"), which a mapping cannot look behind for.
    for written, spelt in SYMBOL_WORDS.items():
        for form in dict.fromkeys([written, written.upper()]):
            rules.append(f"{form}=>{spelt}\\u0020")
    return rules


ANALYSIS = {
    "char_filter": {
        "text_parts": {"type": "mapping", "mappings": _text_parts_mappings()},
        # A name's key (below) keeps the exact rule of the other indexes: not after a
        # letter or digit ("dc++"). Names are short, so its regular expressions cost
        # little, where every description's words went through them before.
        "symbol_words_plus": {"type": "pattern_replace",
                              "pattern": "(?<![\\p{L}\\p{N}_])[cC]\\+\\+",
                              "replacement": "cplusplus "},
        "symbol_words_sharp": {"type": "pattern_replace",
                               "pattern": "(?<![\\p{L}\\p{N}_])([cCfF])#",
                               "replacement": "$1sharp "},
        "name_key_parts": {"type": "pattern_replace", "pattern": "[^\\p{L}\\p{N}]+",
                           "replacement": " "},
    },
    "filter": {
        # The parts of the built-in `english` analyzer, rebuilt so we can add
        # asciifolding ("cafe" finds "Café").
        "english_possessive": {"type": "stemmer", "language": "possessive_english"},
        "english_stop": {"type": "stop", "stopwords": "_english_"},
        "english_stemmer": {"type": "stemmer", "language": "english"},
        "autocomplete_edge": {"type": "edge_ngram", "min_gram": 1, "max_gram": 20},
    },
    "normalizer": {
        "folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]},
        # A name as its words joined by single spaces ("Node.js Profiler": "node js
        # profiler"), as the embedded indexes' name_key and a query's words have it,
        # so an exact name with punctuation is still exact.
        "name_key": {"type": "custom", "char_filter": NAME_KEY_SYMBOL_WORDS + ["name_key_parts"],
                     "filter": ["lowercase", "asciifolding", "trim"]},
    },
    "analyzer": {
        "english_folded": {
            "type": "custom", "tokenizer": "standard", "char_filter": ["text_parts"],
            "filter": ["english_possessive", "lowercase", "asciifolding", "english_stop",
                       "english_stemmer"],
        },
        # What the search text of an English field goes through: the same, then
        # the synonym list (``index_body`` adds the ``synonyms`` filter).
        "english_search": {
            "type": "custom", "tokenizer": "standard", "char_filter": ["text_parts"],
            "filter": ["english_possessive", "lowercase", "asciifolding", "english_stop",
                       "english_stemmer"],
        },
        # Unstemmed words: fuzziness, spelling suggestions, edge n-gram searches.
        "plain_folded": {
            "type": "custom", "tokenizer": "standard", "char_filter": ["text_parts"],
            "filter": ["lowercase", "asciifolding"],
        },
        "autocomplete_index": {
            "type": "custom", "tokenizer": "standard", "char_filter": ["text_parts"],
            "filter": ["lowercase", "asciifolding", "autocomplete_edge"],
        },
    },
}

_ENGLISH = {"type": "text", "analyzer": "english_folded", "search_analyzer": "english_search"}
_PLAIN = {"type": "text", "analyzer": "plain_folded"}
# Words for "did you mean": every text field's words, unstemmed, in one field.
_SPELL = SPELL_FIELD
FACET_KEYS = "facet_keys"


def _text_with_keyword(**extra) -> dict:
    return {**_ENGLISH, **extra,
            "fields": {"keyword": {"type": "keyword", "normalizer": "folded",
                                   "ignore_above": 256}}}


MAPPINGS = {
    # Unknown keys are kept in _source but not indexed: a new document field never
    # breaks indexing before the mapping learns about it.
    "dynamic": False,
    "_meta": {"settings_version": SETTINGS_VERSION},
    "properties": {
        "id": {"type": "long"},
        "slug": {"type": "keyword"},
        "name": {
            **_ENGLISH, "copy_to": _SPELL,
            "fields": {
                "keyword": {"type": "keyword", "normalizer": "folded", "ignore_above": 256},
                "key": {"type": "keyword", "normalizer": "name_key", "ignore_above": 256},
                "edge": {"type": "text", "analyzer": "autocomplete_index",
                         "search_analyzer": "plain_folded"},
                "plain": _PLAIN,
            },
        },
        # ``plain``: the words as written, stopwords too, for the phrases of the synonym
        # list that begin or end with one ("log in", "no code": opensearch_text).
        "tagline": {**_ENGLISH, "copy_to": _SPELL, "fields": {"plain": _PLAIN}},
        "description": {**_ENGLISH, "copy_to": _SPELL},
        "category": _text_with_keyword(copy_to=_SPELL),
        "category_slug": {"type": "keyword"},
        "tags": _text_with_keyword(copy_to=_SPELL),
        "partner": _text_with_keyword(copy_to=_SPELL),
        "pricing_model": {"type": "keyword"},
        "is_free": {"type": "boolean"},
        "has_trial": {"type": "boolean"},
        "badges": {"type": "keyword"},
        "scopes": {"type": "keyword"},
        "write_access": {"type": "boolean"},
        "regions": {"type": "keyword"},
        "rating_average": {"type": "float"},
        "rating_count": {"type": "integer"},
        "rating_score": {"type": "float"},
        "installs": {"type": "long"},
        "active_installs": {"type": "long"},
        "published_at": {"type": "date"},
        "updated_at": {"type": "date"},
        # Backend-private (added by ``source_document``): every facet value of the
        # listing as "facet:value", so one terms aggregation counts all facets.
        FACET_KEYS: {"type": "keyword"},
        # Suggestions need only term statistics; the positions are for the phrases of the
        # synonym list that begin or end with a small word ("log in"), which the English
        # fields drop, found here in a description (opensearch_text.PLAIN_FIELDS).
        _SPELL: {"type": "text", "analyzer": "plain_folded", "index_options": "positions",
                 "norms": False},
    },
}


def analysis(synonyms: Sequence[str] = ()) -> dict:
    """The index's analysis settings, with ``synonyms`` (Solr-format lines, see
    ``search.synonyms``) as a ``synonym_graph`` filter at the end of the search
    analyzer of the English fields: queries expand, the index is unchanged.

    The same list also expands queries in Python (``search.analysis``), which is
    how an editor's new line takes effect before the next rebuild puts it here.
    ``lenient``: a line the analyzer can't parse (one made only of stopwords) is
    skipped instead of failing the index; the Python expansion still has it.
    https://opensearch.org/docs/latest/analyzers/token-filters/synonym-graph/
    """
    settings = copy.deepcopy(ANALYSIS)
    if synonyms:
        settings["filter"]["synonyms"] = {"type": "synonym_graph", "synonyms": list(synonyms),
                                          "lenient": True}
        settings["analyzer"]["english_search"]["filter"].append("synonyms")
    return settings


def index_body(refresh_interval: str | None = None, synonyms: Sequence[str] = ()) -> dict:
    """The body that creates a physical index. ``refresh_interval="-1"`` for a
    bulk build (restored afterwards with ``restore_settings_body``); ``synonyms``
    for the search analyzer (see ``analysis``)."""
    settings = {"number_of_shards": 1, "number_of_replicas": 0,
                "analysis": analysis(synonyms)}
    if refresh_interval is not None:
        settings["refresh_interval"] = refresh_interval
    return {"settings": {"index": settings}, "mappings": MAPPINGS}


def restore_settings_body() -> dict:
    """Back to the default refresh interval once a bulk build is done."""
    return {"index": {"refresh_interval": None}}
