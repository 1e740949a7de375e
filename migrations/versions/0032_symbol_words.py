"""symbol words: "C++", "C#" and "F#" are searched as the languages they name, spelt
out as words ("cplusplus") in listings' text and in queries, where every tokenizer
read a lone "c" or "f". The database's index spells them out here: on SQLite the FTS5
table is filled again with each column's text through replace() (search.fts.
FTS_VALUES), on PostgreSQL the search vector is generated again with two more
regexp_replace() (as 0031 did). The local index moves to layout 3 (a new, empty
directory: its text fields hold the spelt-out text, and what a hit shows is stored
apart) and the embedded indexes' name keys change for names with such a word. Every
published listing is queued in the search outbox for each index that has been synced
here (a row in search_sync_state), so the indexes fill and rewrite themselves; `flask
search reindex` does it at once. (An OpenSearch index also needs that reindex for its
new char filters: `flask search status` says so.)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 16:50:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0032'
down_revision: Union[str, None] = '0031'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# A migration keeps the expressions of its own day, whatever later code changes.
FTS_COLUMNS = ("name", "tagline", "body", "tags_text", "category", "partner")
SYMBOL_WORDS = {"c++": "cplusplus", "c#": "csharp", "f#": "fsharp"}


def _spelt(column: str) -> str:
    for written, spelt in SYMBOL_WORDS.items():
        for form in dict.fromkeys([written, written.upper()]):
            column = f"replace({column}, '{form}', '{spelt} ')"
    return column


def _fill_fts(spelt: bool) -> None:
    values = ", ".join(_spelt(column) if spelt else column for column in FTS_COLUMNS)
    op.execute("INSERT INTO search_fts(search_fts) VALUES ('delete-all')")
    op.execute(f"INSERT INTO search_fts(rowid, {', '.join(FTS_COLUMNS)}) "
               f"SELECT listing_id, {values} FROM search_documents")


# Each text of PostgreSQL's vector passes through these (0031's, then the languages).
WORD_PARTS = "regexp_replace({}, '[./\\\\@:<>]+|-(?=[0-9])', ' ', 'g')"
SYMBOLS = ("regexp_replace(regexp_replace({}, '(?<![[:alnum:]_])[cC]\\+\\+', 'cplusplus ', 'g'), "
           "'(?<![[:alnum:]_])([cCfF])#', '\\1sharp ', 'g')")


def _vector(spelt: bool) -> str:
    def text(expression: str) -> str:
        return WORD_PARTS.format(SYMBOLS.format(expression) if spelt else expression)
    return f"""
ALTER TABLE search_documents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', {text("coalesce(name, '')")}), 'A') ||
    setweight(to_tsvector('english', {text("coalesce(tagline, '')")}), 'B') ||
    setweight(to_tsvector('english', {text(
        "coalesce(category, '') || ' ' || coalesce(partner, '') || ' ' || coalesce(tags_text, '')"
    )}), 'C') ||
    setweight(to_tsvector('english', {text("coalesce(body, '')")}), 'D')
) STORED
"""


def _rebuild(spelt: bool) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _fill_fts(spelt)
        return
    # A generated column's expression cannot be altered: drop it (and its index)
    # and add it again, which computes it for every row.
    op.execute('DROP INDEX IF EXISTS ix_search_documents_search_vector')
    op.execute('ALTER TABLE search_documents DROP COLUMN search_vector')
    op.execute(_vector(spelt))
    op.execute('CREATE INDEX ix_search_documents_search_vector '
               'ON search_documents USING gin (search_vector)')


def upgrade() -> None:
    _rebuild(spelt=True)
    # One statement, however many listings: the rows a change to each listing would
    # have written (search/sync.py), for the targets this database has synced.
    op.execute(sa.text(
        "INSERT INTO search_outbox (listing_id, target, created_at, available_at, attempts) "
        "SELECT listings.id, search_sync_state.target, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0 "
        "FROM listings CROSS JOIN search_sync_state WHERE listings.status = 'published'"))


def downgrade() -> None:
    # The queued rows are harmless to the older app, which indexes those listings
    # again as it reads them (its layout 2 directory is still there).
    _rebuild(spelt=False)
