"""description text with its blocks marked: each listing's stored plain text
(listings.description_text, what its search document carries) rendered again, now
with " · " where a Markdown block ended without punctuation, so search snippets
read "What you get · Multi-currency invoices" (core.markdown.markdown_to_text).
Every published listing is queued in the search outbox for each index that has been
synced here (a row in search_sync_state), so the indexes get the new text by
themselves; `flask search reindex` does it at once.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 10:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from core.markdown import markdown_blocks, markdown_to_text

revision: str = '0026'
down_revision: Union[str, None] = '0025'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH_SIZE = 1000


def _render_all(render) -> None:
    listings = sa.table('listings', sa.column('id', sa.Integer()),
                        sa.column('description', sa.Text()),
                        sa.column('description_text', sa.Text()))
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(listings.c.id, listings.c.description).where(listings.c.id > last_id)
            .order_by(listings.c.id).limit(BATCH_SIZE)).all()
        if not rows:
            break
        connection.execute(
            listings.update().where(listings.c.id == sa.bindparam('listing_id'))
            .values(description_text=sa.bindparam('text')),
            [{'listing_id': row.id, 'text': render(row.description)} for row in rows])
        last_id = rows[-1].id


def upgrade() -> None:
    # With the app's own function, as the app renders it on every write since.
    _render_all(markdown_to_text)
    # One statement, however many listings: the rows a change to each listing would
    # have written (search/sync.py), for the targets this database has synced (an
    # index that is not configured here is never named, so no row waits for it).
    op.execute(sa.text(
        "INSERT INTO search_outbox (listing_id, target, created_at, available_at, attempts) "
        "SELECT listings.id, search_sync_state.target, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0 "
        "FROM listings CROSS JOIN search_sync_state WHERE listings.status = 'published'"))


def downgrade() -> None:
    # The text as 0019 stored it: the blocks joined by plain spaces (queued rows are
    # harmless to the older app, which indexes those listings again).
    _render_all(lambda description: " ".join(markdown_blocks(description)))
