"""listing webhook url: the endpoint moves from the release (editor-approved) to the
listing (the partner changes it at once); each listing starts with the URL of its
current release, the newest approved one

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 06:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: Union[str, None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('listings', sa.Column('webhook_url', sa.String(length=500), nullable=True))
    # The current release is the newest approved one (listings.services.current_release):
    # latest created_at, then the highest id.
    op.execute("""
        UPDATE listings SET webhook_url = (
            SELECT releases.webhook_url FROM releases
            WHERE releases.listing_id = listings.id AND releases.review_status = 'approved'
            ORDER BY releases.created_at DESC, releases.id DESC
            LIMIT 1)
    """)


def downgrade() -> None:
    # A plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ has it): a batch copy of the
    # table would drop "listings", which releases and installs point at.
    op.drop_column('listings', 'webhook_url')
