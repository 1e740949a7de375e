"""search synonyms: the lines editors add in the console beside the curated
search/synonyms.txt (search/synonyms.py)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 22:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: Union[str, None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'search_synonyms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('line', sa.String(length=500), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        # An editor's account may go; the line stays, nameless.
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        # SQLite reuses the highest id after a delete unless told not to; every process
        # notices new lines by the count and highest id (PostgreSQL sequences never reuse).
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table('search_synonyms')
