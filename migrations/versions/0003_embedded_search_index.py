"""embedded search index

The tables of the embedded search backend (``search.fts``): one row per
indexed listing, its multi-valued fields as terms, and a vocabulary for "did
you mean". The text index itself depends on the database: an FTS5 table on
SQLite, a generated ``tsvector`` column with a GIN index on PostgreSQL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:02:10.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# SQLite: an external-content FTS5 table over search_documents (the text is
# stored once, in search_documents; snippet() reads it from there). Porter
# stemming gives "invoices" -> "invoic"; prefix indexes keep typing-in-progress
# queries ("cha"*) fast. https://sqlite.org/fts5.html#external_content_tables
SQLITE_FTS = """
CREATE VIRTUAL TABLE search_fts USING fts5(
    name, tagline, body, tags_text, category, partner,
    content='search_documents', content_rowid='listing_id',
    tokenize='porter unicode61 remove_diacritics 2', prefix='2 3'
)
"""

# PostgreSQL: the weighted document vector is a generated column, so it can
# never drift from the text columns it is made of.
# https://www.postgresql.org/docs/current/textsearch-controls.html
POSTGRES_VECTOR = """
ALTER TABLE search_documents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(name, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(tagline, '')), 'B') ||
    setweight(to_tsvector('english', coalesce(category, '') || ' ' || coalesce(partner, '')
                                     || ' ' || coalesce(tags_text, '')), 'C') ||
    setweight(to_tsvector('english', coalesce(body, '')), 'D')
) STORED
"""


SORT_INDEXES = {
    'ix_search_documents_sort_rating': ['rating_average DESC', 'rating_count DESC',
                                        'listing_id DESC'],
    'ix_search_documents_sort_installs': ['installs DESC', 'listing_id DESC'],
    'ix_search_documents_sort_newest': ['published_at DESC NULLS LAST', 'listing_id DESC'],
    'ix_search_documents_sort_updated': ['updated_at DESC NULLS LAST', 'listing_id DESC'],
}


def upgrade() -> None:
    op.create_table('search_documents',
    sa.Column('listing_id', sa.Integer(), autoincrement=False, nullable=False),
    # The small columns that filters, facets and sorts read come first, the long
    # text last: SQLite then reads them without walking a row's overflow pages.
    sa.Column('category_slug', sa.String(length=200), nullable=False),
    sa.Column('is_free', sa.Boolean(), nullable=False),
    sa.Column('has_trial', sa.Boolean(), nullable=False),
    sa.Column('write_access', sa.Boolean(), nullable=False),
    sa.Column('rating_average', sa.Float(), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('installs', sa.Integer(), nullable=False),
    sa.Column('active_installs', sa.Integer(), nullable=False),
    # Popularity lift (>= 1) multiplied into the text score; see search.fts.
    sa.Column('boost', sa.Float(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pricing_model', sa.String(length=40), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    # The name's words, lowercased and joined by one space: exact-name ranking
    # and "name starts with" autocomplete compare against it.
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=200), nullable=False),
    sa.Column('partner', sa.String(length=200), nullable=False),
    sa.Column('tagline', sa.String(length=500), nullable=False),
    sa.Column('tags_text', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    # No foreign key to listings: the index may briefly hold ids the catalog dropped.
    sa.PrimaryKeyConstraint('listing_id')
    )
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        # Also covers the facet counts, so browsing never reads the wide rows.
        batch_op.create_index('ix_search_documents_facets',
                              ['category_slug', 'is_free', 'has_trial', 'write_access',
                               'rating_average'], unique=False)
        batch_op.create_index('ix_search_documents_name_key', ['name_key'], unique=False)

    dialect = op.get_bind().dialect.name
    # One index per sort, in the sort's own order (ties: highest id first, as
    # search.queries.sort_clause does), so a page of "newest" or "top rated" is
    # read straight off the index. NULLS LAST is SQLite's default for DESC;
    # PostgreSQL must be told.
    nulls_last = ' NULLS LAST' if dialect == 'postgresql' else ''
    for name, columns in SORT_INDEXES.items():
        op.create_index(name, 'search_documents',
                        [sa.text(column.replace(' NULLS LAST', nulls_last)) for column in columns],
                        unique=False)

    op.create_table('search_terms',
    sa.Column('listing_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('field', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('listing_id', 'field', 'value')
    )
    with op.batch_alter_table('search_terms', schema=None) as batch_op:
        batch_op.create_index('ix_search_terms_field_value', ['field', 'value'], unique=False)

    op.create_table('search_vocabulary',
    sa.Column('word', sa.String(length=60), nullable=False),
    sa.Column('initial', sa.String(length=1), nullable=False),
    sa.PrimaryKeyConstraint('word')
    )
    with op.batch_alter_table('search_vocabulary', schema=None) as batch_op:
        batch_op.create_index('ix_search_vocabulary_initial', ['initial'], unique=False)

    if dialect == 'sqlite':
        op.execute(SQLITE_FTS)
    elif dialect == 'postgresql':
        op.execute(POSTGRES_VECTOR)
        op.execute('CREATE INDEX ix_search_documents_search_vector '
                   'ON search_documents USING gin (search_vector)')
        # Autocomplete: "a word of the name starts with" and "the name starts with".
        op.execute("CREATE INDEX ix_search_documents_name_words "
                   "ON search_documents USING gin (to_tsvector('simple', name))")
        op.execute('CREATE INDEX ix_search_documents_name_key_pattern '
                   'ON search_documents (name_key text_pattern_ops)')


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        op.execute('DROP TABLE IF EXISTS search_fts')
    elif dialect == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_search_documents_name_key_pattern')
        op.execute('DROP INDEX IF EXISTS ix_search_documents_name_words')
        op.execute('DROP INDEX IF EXISTS ix_search_documents_search_vector')

    with op.batch_alter_table('search_vocabulary', schema=None) as batch_op:
        batch_op.drop_index('ix_search_vocabulary_initial')

    op.drop_table('search_vocabulary')
    with op.batch_alter_table('search_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_search_terms_field_value')

    op.drop_table('search_terms')
    for name in SORT_INDEXES:
        op.drop_index(name, table_name='search_documents')
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_search_documents_name_key')
        batch_op.drop_index('ix_search_documents_facets')

    op.drop_table('search_documents')
