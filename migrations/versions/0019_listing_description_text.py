"""listing description text: the plain text of each listing's description
(listings.description_text), what its search document carries, kept with the
listing so a reindex reads it instead of rendering every description's Markdown

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 01:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from core.markdown import markdown_to_text

revision: str = '0019'
down_revision: Union[str, None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH_SIZE = 1000


def upgrade() -> None:
    # The server default fills the column on existing rows so it can be NOT NULL;
    # the backfill below then writes each one's real text.
    op.add_column('listings', sa.Column('description_text', sa.Text(), nullable=False,
                                        server_default=''))
    # Rendered with the app's own function, as the app does on every write since:
    # a reindex right after the upgrade indexes the same text as before it.
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
            [{'listing_id': row.id, 'text': markdown_to_text(row.description)} for row in rows])
        last_id = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_column('description_text')
