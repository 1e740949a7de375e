"""The local search index's layout (tantivy) and the entry a search document becomes.

Text fields are analysed by ``english`` (split into letters and digits,
lowercased, accents folded, Snowball English stems), the same stems
``search.synonyms`` matches on. Filter and facet fields are untokenized
*fast* (columnar) fields, which tantivy counts and sorts on without reading
documents. https://docs.rs/tantivy/latest/tantivy/schema/index.html
"""

from __future__ import annotations

import math
from typing import TypeVar

import tantivy

from search.fts_tables import document_row, vocabulary_words
from search.fts_text import clean_text, parse_datetime, symbol_words_spelt

T = TypeVar("T")

# Bump when the layout below changes: a new version is a new, empty directory,
# filled by `flask search reindex --target embedded` (the old one is left alone),
# or by the outbox rows a migration queues (0032 for version 3).
LAYOUT_VERSION = 3

ENGLISH = "english"   # stemmed words: what listings are matched and ranked on
PLAIN = "plain"       # whole words: spelling vocabulary, word prefixes of names

# Text fields and their weights in the text score. ``all_text`` (every text
# field in one) carries most of it: tantivy's IDF is per field, so a word rare
# in names ("desktop") would otherwise lift any name that has it far above
# listings whose text is about the whole query. The name, tagline, tags and
# category add to it; body and partner are only in all_text. Tuned on
# bench/relevance (docs/search.md).
TEXT_FIELDS = {"all_text": 3.0, "name": 1.0, "tagline": 1.0, "tags": 1.0, "category": 0.5,
               "body": 0.0, "partner": 0.0}
# What a listing says it is, as against its description: every term of a query in
# these ranks a listing above those with every term only somewhere in the text.
SUMMARY_FIELDS = ("name", "tagline", "tags", "category")
FACET_TERM_FIELDS = ("badges", "regions")
# The text a hit shows (and is highlighted in), stored as written: the text fields
# are indexed with languages written with a symbol spelt out ("C++": "cplusplus",
# fts_text.SYMBOL_WORDS), which a reader should not see.
SHOWN_FIELDS = {"name": "shown_name", "tagline": "shown_tagline", "description": "shown_body"}

# Sort keys pack a value and the listing id (the tie-break, newest id first)
# into one unsigned 64-bit fast field, since tantivy sorts on one field.
ID_BITS = 30
MAX_ID = (1 << ID_BITS) - 1
RATING_COUNT_BITS = 20


def english_analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold())
            .filter(tantivy.Filter.stemmer("english")).build())


def plain_analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold()).build())


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=ENGLISH)
    for name in SHOWN_FIELDS.values():
        builder.add_bytes_field(name, stored=True)
    builder.add_text_field("slug", stored=True, tokenizer_name="raw")
    builder.add_text_field("category_name", stored=True, tokenizer_name="raw")
    builder.add_text_field("words", tokenizer_name=PLAIN)
    builder.add_text_field("name_words", tokenizer_name=PLAIN)
    builder.add_text_field("name_key", fast=True, tokenizer_name="raw")
    builder.add_text_field("category_slug", fast=True, tokenizer_name="raw")
    for name in FACET_TERM_FIELDS:
        builder.add_text_field(name, fast=True, tokenizer_name="raw")
    for name in ("is_free", "has_trial", "write_access"):
        builder.add_boolean_field(name, indexed=True, fast=True)
    builder.add_float_field("rating_average", indexed=True, fast=True)
    builder.add_float_field("lift", fast=True)
    for name in ("sort_rating", "sort_installs", "sort_updated", "sort_published"):
        builder.add_unsigned_field(name, fast=True)
    return builder.build()


def _packed(value: int, listing_id: int) -> int:
    return (max(int(value), 0) << ID_BITS) | min(listing_id, MAX_ID)


def _seconds(value) -> int:
    moment = parse_datetime(value)
    return int(moment.timestamp()) if moment else 0


def lift_of(boost: float) -> float:
    """The weight field value that makes tantivy's ``log2(2 + value)`` equal to
    our popularity boost (``fts_text.popularity_boost``, 1.0 to 1.3)."""
    return max(2.0 ** boost - 2.0, 0.0)


def text_lifted(hits: list[tuple[float, T]], lifts: list[float], tier_unit: float
                ) -> list[tuple[float, T]]:
    """``hits`` (score, address), as tantivy weighted them by each listing's lift (the
    whole score times ``log2(2 + lift)``), scored and ordered again by their tiers plus
    their text score times the lift: popularity lifts the text, never the tiers. Every
    tier is a multiple of ``tier_unit`` and a text score far less, so the score divided
    by the lift comes apart into the two. Equal scores keep their order."""
    rescored = []
    for (score, address), lift in zip(hits, lifts):
        factor = math.log2(2.0 + max(float(lift), 0.0))
        unlifted = score / factor
        # The tiers' sum (the epsilon: float rounding just below a whole tier).
        tiers = math.floor(unlifted / tier_unit + 1e-3) * tier_unit
        rescored.append((tiers + (unlifted - tiers) * factor, address))
    rescored.sort(key=lambda hit: -hit[0])
    return rescored


def shown(stored: tantivy.Document, field: str) -> str:
    """A hit's name, tagline or description (``SHOWN_FIELDS``) as written."""
    return (stored.get_first(SHOWN_FIELDS[field]) or b"").decode()


def indexed_text(stored: tantivy.Document) -> str:
    """A hit's name, tagline and description as its text fields were indexed."""
    return symbol_words_spelt(" ".join(shown(stored, field) for field in SHOWN_FIELDS))


def to_entry(doc: dict, schema: tantivy.Schema) -> tantivy.Document:
    """The index entry of one search document (``search.interfaces.DOCUMENT_FIELDS``)."""
    row = document_row(doc)
    text = {field: symbol_words_spelt(row[field])
            for field in ("name", "tagline", "body", "tags_text", "category", "partner")}
    listing_id = row["listing_id"]
    rating_count = min(row["rating_count"], (1 << RATING_COUNT_BITS) - 1)
    # The rating sort orders by the Bayesian score (listings.ranking), then the count.
    rating = (round(row["rating_score"] * 1000) << RATING_COUNT_BITS) | rating_count
    # from_dict types each value by the schema (a Python int is signed otherwise).
    return tantivy.Document.from_dict(dict(
        id=listing_id,
        name=text["name"], tagline=text["tagline"], body=text["body"], tags=text["tags_text"],
        category=text["category"], partner=text["partner"],
        all_text=" ".join(text.values()),
        shown_name=row["name"].encode(), shown_tagline=row["tagline"].encode(),
        shown_body=row["body"].encode(),
        slug=row["slug"], category_name=row["category"],
        words=" ".join(sorted(vocabulary_words(doc))),
        name_words=text["name"], name_key=row["name_key"],
        category_slug=row["category_slug"],
        badges=sorted({clean_text(v, 200) for v in doc.get("badges") or ()} - {""}),
        regions=sorted({clean_text(v, 200) for v in doc.get("regions") or ()} - {""}),
        is_free=row["is_free"], has_trial=row["has_trial"], write_access=row["write_access"],
        rating_average=row["rating_average"], lift=lift_of(row["boost"]),
        sort_rating=_packed(rating, listing_id),
        sort_installs=_packed(min(row["installs"], (1 << 33) - 1), listing_id),
        sort_updated=_packed(_seconds(doc.get("updated_at")), listing_id),
        sort_published=_packed(_seconds(doc.get("published_at")), listing_id),
    ), schema)
