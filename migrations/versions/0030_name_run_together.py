"""names run together: autocomplete also finds "Wi-Fi Guest Portal" for "wifi" and
"K-12 Gradebook" for "k12" by comparing what is typed, without its spaces, with
each name's key without its spaces (search/fts.py, ``suggest``). The embedded
index keeps that key in a column of its own, indexed, so the comparison reads a
range of it as the name key's own does; the rows already indexed get it from
their name key here, by the same rule (search/fts_text.py, ``run_together``).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 14:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0030'
down_revision: Union[str, None] = '0029'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A plain ALTER, not a batch: SQLite adds a column in place, and copying the
    # table would be a needless rewrite of the index under its FTS5 table.
    op.add_column('search_documents', sa.Column('name_run_together', sa.String(length=200),
                                                nullable=False, server_default=''))
    op.execute(sa.text("UPDATE search_documents SET name_run_together = "
                       "replace(name_key, ' ', '')"))
    if op.get_bind().dialect.name == 'postgresql':
        # LIKE 'prefix%' reads an index in any collation only with text_pattern_ops
        # (as ix_search_documents_name_key_pattern).
        op.execute('CREATE INDEX ix_search_documents_name_run_together '
                   'ON search_documents (name_run_together text_pattern_ops)')
    else:
        op.create_index('ix_search_documents_name_run_together', 'search_documents',
                        ['name_run_together'])


def downgrade() -> None:
    op.drop_index('ix_search_documents_name_run_together', table_name='search_documents')
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_column('name_run_together')  # SQLite before 3.35 cannot drop in place
