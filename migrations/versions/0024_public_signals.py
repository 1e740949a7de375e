"""public signals: the search index's rating score (the Bayesian average the
"rating" sort and the "Top rated" shelf order by, listings/ranking.py), app
icons on listings, and no more hand-awarded "Top rated" badges

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 07:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: Union[str, None] = '0023'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# listings/ranking.py at the time of writing (a migration never imports app code).
PRIOR_MEAN = 4.0
PRIOR_WEIGHT = 5


def upgrade() -> None:
    with op.batch_alter_table('listings', schema=None) as batch_op:
        # The uploaded icon's file under UPLOAD_FOLDER/icons (listings/icons.py);
        # None: the generated initials icon.
        batch_op.add_column(sa.Column('icon_filename', sa.String(length=200), nullable=True))

    # Plain ALTERs, not a batch: SQLite adds a column in place, and copying the
    # table would be a needless rewrite of the index under its FTS5 table.
    op.add_column('search_documents', sa.Column('rating_score', sa.Float(), nullable=False,
                                                server_default='0'))
    op.drop_index('ix_search_documents_sort_rating', table_name='search_documents')
    # The rows already indexed get their score from what they hold, by the same rule.
    op.execute(sa.text(
        "UPDATE search_documents SET rating_score = CASE WHEN rating_count > 0 THEN "
        f"({PRIOR_WEIGHT} * {PRIOR_MEAN} + rating_average * rating_count) / "
        f"({PRIOR_WEIGHT} + rating_count) ELSE 0 END"))
    op.create_index('ix_search_documents_sort_rating', 'search_documents',
                    [sa.text('rating_score DESC'), sa.text('rating_count DESC'),
                     sa.text('listing_id DESC')])

    # "Top rated" is now derived from the reviews (listings/badges.py) and editors
    # can no longer award it: the hand-awarded rows are deleted, not revoked, since
    # they were never a decision the rule could keep (an app could wear one with
    # no reviews at all). The audit log keeps who awarded them.
    op.execute(sa.text("DELETE FROM badges WHERE kind = 'top_rated'"))

    # Every published listing's document is built again (its rating score, the
    # derived badge), like migration 0020: `flask search reindex` does it at once.
    op.execute(sa.text(
        "INSERT INTO search_outbox (listing_id, target, created_at, available_at, attempts) "
        "SELECT id, 'embedded', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0 FROM listings "
        "WHERE status = 'published'"))


def downgrade() -> None:
    op.drop_index('ix_search_documents_sort_rating', table_name='search_documents')
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_column('rating_score')  # SQLite before 3.35 cannot drop in place
    op.create_index('ix_search_documents_sort_rating', 'search_documents',
                    [sa.text('rating_average DESC'), sa.text('rating_count DESC'),
                     sa.text('listing_id DESC')])
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_column('icon_filename')
