"""search vector stopwords: on PostgreSQL the database's index keeps stopwords, so a
phrase made with one is found as written. The 'english' configuration drops them from
a query's phrase as from the text, so the synonym list's "log in" was 'log' and "no
code" 'code': "login" found every listing that mentions logs. The vector is now made
with 'bazaar_english', a copy of 'english' whose Snowball dictionary has no stopword
list (the same stems); queries use it too (search.fts_text.TS_CONFIG). Words of a
query that are stopwords never become terms of their own (search.analysis), so what
a word finds does not change. SQLite's FTS5 table keeps every word already.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-08 00:55:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0033'
down_revision: Union[str, None] = '0032'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


# A migration keeps the expressions of its own day, whatever later code changes (0032's).
WORD_PARTS = "regexp_replace({}, '[./\\\\@:<>]+|-(?=[0-9])', ' ', 'g')"
SYMBOLS = ("regexp_replace(regexp_replace({}, '(?<![[:alnum:]_])[cC]\\+\\+', 'cplusplus ', 'g'), "
           "'(?<![[:alnum:]_])([cCfF])#', '\\1sharp ', 'g')")


def _vector(config: str) -> str:
    def text(expression: str) -> str:
        return WORD_PARTS.format(SYMBOLS.format(expression))
    return f"""
ALTER TABLE search_documents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('{config}', {text("coalesce(name, '')")}), 'A') ||
    setweight(to_tsvector('{config}', {text("coalesce(tagline, '')")}), 'B') ||
    setweight(to_tsvector('{config}', {text(
        "coalesce(category, '') || ' ' || coalesce(partner, '') || ' ' || coalesce(tags_text, '')"
    )}), 'C') ||
    setweight(to_tsvector('{config}', {text("coalesce(body, '')")}), 'D')
) STORED
"""


def _rebuild(config: str) -> None:
    # A generated column's expression cannot be altered: drop it (and its index)
    # and add it again, which computes it for every row.
    op.execute('DROP INDEX IF EXISTS ix_search_documents_search_vector')
    op.execute('ALTER TABLE search_documents DROP COLUMN search_vector')
    op.execute(_vector(config))
    op.execute('CREATE INDEX ix_search_documents_search_vector '
               'ON search_documents USING gin (search_vector)')


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("CREATE TEXT SEARCH DICTIONARY bazaar_english_stem "
               "(TEMPLATE = snowball, Language = english)")
    op.execute("CREATE TEXT SEARCH CONFIGURATION bazaar_english (COPY = english)")
    op.execute("ALTER TEXT SEARCH CONFIGURATION bazaar_english "
               "ALTER MAPPING REPLACE english_stem WITH bazaar_english_stem")
    _rebuild('bazaar_english')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    _rebuild('english')
    op.execute("DROP TEXT SEARCH CONFIGURATION bazaar_english")
    op.execute("DROP TEXT SEARCH DICTIONARY bazaar_english_stem")
