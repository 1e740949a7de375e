"""name keys without accents: the embedded search indexes keep each name's key (its
words joined by single spaces, what an exact name and autocomplete compare) without
accents now, as queries are compared, so "creme brulee" is the app "Crème Brûlée".
Every published listing is queued in the search outbox for each index that has been
synced here (a row in search_sync_state), so the indexes write the new keys by
themselves; `flask search reindex` does it at once. (An OpenSearch index also needs
that reindex for its new `name.key` field: `flask search status` says so.)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 09:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0029'
down_revision: Union[str, None] = '0028'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # One statement, however many listings: the rows a change to each listing would
    # have written (search/sync.py), for the targets this database has synced.
    op.execute(sa.text(
        "INSERT INTO search_outbox (listing_id, target, created_at, available_at, attempts) "
        "SELECT listings.id, search_sync_state.target, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0 "
        "FROM listings CROSS JOIN search_sync_state WHERE listings.status = 'published'"))


def downgrade() -> None:
    # Nothing to undo: queued rows are harmless to the older app, which indexes those
    # listings again with the keys it makes.
    pass
