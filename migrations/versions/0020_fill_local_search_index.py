"""fill the local search index: the embedded index is now a tantivy index in a
directory (search/tantivy_backend.py), which starts empty; every published
listing gets a search outbox row for it, so the outbox fills it and no listing
goes missing from search (`flask search reindex --target embedded` does it at
once)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 02:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: Union[str, None] = '0019'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # One statement, however many listings: the rows are what a change to each
    # listing would have written (search/sync.py), for the "embedded" target only.
    op.execute(sa.text(
        "INSERT INTO search_outbox (listing_id, target, created_at, available_at, attempts) "
        "SELECT id, 'embedded', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0 FROM listings "
        "WHERE status = 'published'"))


def downgrade() -> None:
    # Rows still waiting are harmless for the older app (it re-indexes those
    # listings into its own index), so nothing is undone.
    pass
