"""search vector hyphen digits: on PostgreSQL, "K-12", "COVID-19" and "Wi-Fi 6-E"
are read as the words they are made of. PostgreSQL's text parser reads a hyphen
before digits as a minus sign ('k', '-12'), so "12", which is what a query's words
are (search.fts_text.words_of: "k12" is also "k 12"), found nothing in them. A
hyphen before a digit becomes a space, as dots and slashes already do (migration
0028); other hyphens stay ("e-mail": 'e-mail', 'e', 'mail'). SQLite's FTS5
tokenizer splits them all already: nothing to do there.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 07:20:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0031'
down_revision: Union[str, None] = '0030'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Each text of the vector passes through this first (0028's, then this one's). The
# vector below is 0028's, copied: a migration keeps the schema of its own day, whatever
# later ones change.
WORD_PARTS = {
    False: "regexp_replace({}, '[./\\\\@:<>]+', ' ', 'g')",
    True: "regexp_replace({}, '[./\\\\@:<>]+|-(?=[0-9])', ' ', 'g')",
}


def _vector(hyphen_digits: bool) -> str:
    def text(expression: str) -> str:
        return WORD_PARTS[hyphen_digits].format(expression)
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


def _rebuild(hyphen_digits: bool) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    # A generated column's expression cannot be altered: drop it (and its index)
    # and add it again, which computes it for every row.
    op.execute('DROP INDEX IF EXISTS ix_search_documents_search_vector')
    op.execute('ALTER TABLE search_documents DROP COLUMN search_vector')
    op.execute(_vector(hyphen_digits))
    op.execute('CREATE INDEX ix_search_documents_search_vector '
               'ON search_documents USING gin (search_vector)')


def upgrade() -> None:
    _rebuild(hyphen_digits=True)


def downgrade() -> None:
    _rebuild(hyphen_digits=False)
