"""catalog version: one row whose token changes with every change to what the
catalog pages show (listings/catalog_cache.py), so cached pages are replaced

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 04:10:00
"""
import secrets
from datetime import UTC, datetime
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: Union[str, None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    table = op.create_table(
        'catalog_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    # A random first token: a database made again from scratch never reuses the
    # keys of pages a shared cache still holds for the old one.
    op.bulk_insert(table, [{'id': 1, 'token': secrets.token_hex(16),
                            'changed_at': datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table('catalog_version')
