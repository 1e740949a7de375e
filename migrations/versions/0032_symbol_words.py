"""symbol words: "C++", "C#" and "F#" are searched as the languages they name, spelt
out as words ("cplusplus") in listings' text and in queries, where every tokenizer
read a lone "c" or "f". The local index moves to layout 3 (a new, empty directory:
its text fields hold the spelt-out text, and what a hit shows is stored apart) and
the embedded indexes' name keys change for names with such a word. Every published
listing is queued in the search outbox for each index that has been synced here (a
row in search_sync_state), so the indexes fill and rewrite themselves; `flask search
reindex` does it at once. (An OpenSearch index also needs that reindex for its new
char filters: `flask search status` says so.)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 16:50:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0032'
down_revision: Union[str, None] = '0031'
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
    # listings again as it reads them (its layout 2 directory is still there).
    pass
