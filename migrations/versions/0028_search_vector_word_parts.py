"""search vector word parts: on PostgreSQL, the database search index's vector
reads "Node.js", "A/B" and "x@y.com" as the words they are made of. PostgreSQL's
text parser keeps such a run as one token (a file, host or email: 'node.js'), so
"node", which is what a query's words are (search.fts_text.words_of), found
nothing in them. Dots, slashes, backslashes, colons and at signs become spaces
before the parser sees the text, and so do angle brackets (the parser skips what
looks like an HTML tag, and "<b>bold< b>" would hide the words after it); hyphens
and apostrophes stay, which the parser already splits well ("e-mail": 'e-mail',
'e', 'mail'). SQLite's FTS5 tokenizer splits them all already: nothing to do there.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 05:00:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0028'
down_revision: Union[str, None] = '0027'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The vector of migration 0003, each text passed through this first.
WORD_PARTS = "regexp_replace({}, '[./\\\\@:<>]+', ' ', 'g')"


def _vector(parts: bool) -> str:
    def text(expression: str) -> str:
        return WORD_PARTS.format(expression) if parts else expression
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


def _rebuild(parts: bool) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    # A generated column's expression cannot be altered: drop it (and its index)
    # and add it again, which computes it for every row.
    op.execute('DROP INDEX IF EXISTS ix_search_documents_search_vector')
    op.execute('ALTER TABLE search_documents DROP COLUMN search_vector')
    op.execute(_vector(parts))
    op.execute('CREATE INDEX ix_search_documents_search_vector '
               'ON search_documents USING gin (search_vector)')


def upgrade() -> None:
    _rebuild(parts=True)


def downgrade() -> None:
    _rebuild(parts=False)
