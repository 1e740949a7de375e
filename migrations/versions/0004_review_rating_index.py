"""reviews index for rating summaries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 12:25:00
"""
from typing import Sequence, Union

from alembic import op

revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Rating summaries of a page of listings read (listing_id, status, rating);
    # without this index SQLite's planner scans every review via ix_reviews_status.
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index('ix_reviews_listing_status_rating',
                              ['listing_id', 'status', 'rating'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_reviews_listing_status_rating')
