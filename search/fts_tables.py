"""The embedded index's tables (made by migration 0003; they are not SQLModel
tables) and the rows a search document becomes in them."""

from __future__ import annotations

import json

import sqlalchemy as sa

from search.fts_text import (
    WORD,
    clean_text,
    name_key,
    parse_datetime,
    popularity_boost,
    run_together,
    symbol_words_spelt,
)

# The index's tables, for tests and tools that must empty them (they are not
# SQLModel tables, so ``SQLModel.metadata`` does not list them).
INDEX_TABLES = ("search_documents", "search_terms", "search_vocabulary")

TERM_FIELDS = ("badges", "regions", "scopes", "tags")


metadata = sa.MetaData()

documents_table = sa.Table(
    "search_documents", metadata,
    sa.Column("listing_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("slug", sa.String(200)),
    sa.Column("name", sa.String(200)),
    sa.Column("name_key", sa.String(200)),
    sa.Column("name_run_together", sa.String(200)),  # added by migration 0030
    sa.Column("tagline", sa.String(500)),
    sa.Column("body", sa.Text),
    sa.Column("tags_text", sa.Text),
    sa.Column("category", sa.String(200)),
    sa.Column("category_slug", sa.String(200)),
    sa.Column("partner", sa.String(200)),
    sa.Column("pricing_model", sa.String(40)),
    sa.Column("is_free", sa.Boolean),
    sa.Column("has_trial", sa.Boolean),
    sa.Column("write_access", sa.Boolean),
    sa.Column("rating_average", sa.Float),
    sa.Column("rating_count", sa.Integer),
    sa.Column("rating_score", sa.Float),  # added by migration 0023
    sa.Column("installs", sa.Integer),
    sa.Column("active_installs", sa.Integer),
    sa.Column("boost", sa.Float),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("document", sa.JSON),
)

terms_table = sa.Table(
    "search_terms", metadata,
    sa.Column("listing_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("field", sa.String(20), primary_key=True),
    sa.Column("value", sa.String(200), primary_key=True),
)

vocabulary_table = sa.Table(
    "search_vocabulary", metadata,
    sa.Column("word", sa.String(60), primary_key=True),
    sa.Column("initial", sa.String(1)),
)


def document_row(doc: dict) -> dict:
    name = clean_text(doc["name"], 200)
    rating_average = float(doc.get("rating_average") or 0.0)
    rating_count = int(doc.get("rating_count") or 0)
    installs = int(doc.get("installs") or 0)
    key = name_key(WORD.findall(symbol_words_spelt(name.lower())))[:200]
    return {
        "listing_id": int(doc["id"]),
        "slug": clean_text(doc["slug"], 200),
        "name": name,
        "name_key": key,
        "name_run_together": run_together(key),
        "tagline": clean_text(doc.get("tagline"), 500),
        "body": clean_text(doc.get("description")),
        "tags_text": clean_text(" ".join(str(tag) for tag in doc.get("tags") or ())),
        "category": clean_text(doc.get("category"), 200),
        "category_slug": clean_text(doc.get("category_slug"), 200),
        "partner": clean_text(doc.get("partner"), 200),
        "pricing_model": clean_text(doc.get("pricing_model"), 40),
        "is_free": bool(doc.get("is_free")),
        "has_trial": bool(doc.get("has_trial")),
        "write_access": bool(doc.get("write_access")),
        "rating_average": rating_average,
        "rating_count": rating_count,
        "rating_score": float(doc.get("rating_score") or 0.0),
        "installs": installs,
        "active_installs": int(doc.get("active_installs") or 0),
        "boost": popularity_boost(rating_average, rating_count, installs),
        "published_at": parse_datetime(doc.get("published_at")),
        "updated_at": parse_datetime(doc.get("updated_at")),
        # A JSON round trip keeps the stored copy plain (no datetimes or tuples).
        "document": json.loads(json.dumps(doc, default=str)),
    }


def terms_of(doc: dict) -> list[dict]:
    rows = []
    for field in TERM_FIELDS:
        values = {clean_text(value, 200) for value in doc.get(field) or ()}
        rows.extend({"listing_id": int(doc["id"]), "field": field, "value": value}
                    for value in sorted(values) if value)
    return rows


def vocabulary_words(doc: dict) -> set[str]:
    """The words spelling correction may propose (``search.fts_spelling``): every
    word of the name, tagline, description, tags, category and partner. A rare
    word (or a typo) in one description is seldom proposed: among equally near
    words the one more listings use wins."""
    text = " ".join([str(doc.get("name") or ""), str(doc.get("tagline") or ""),
                     str(doc.get("description") or ""),
                     " ".join(str(tag) for tag in doc.get("tags") or ()),
                     str(doc.get("category") or ""), str(doc.get("partner") or "")])
    return {word for word in WORD.findall(symbol_words_spelt(text.lower()))
            if 3 <= len(word) <= 60 and not word.isdigit()}
