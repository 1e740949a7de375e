"""notice mail: each person's choice per kind of notice (mail_preferences), and when a
published review went out in its partner's daily review digest (reviews.digest_mailed_at)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 20:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: Union[str, None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'mail_preferences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('opted_out', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        # A deleted account's choices go with it.
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'kind'),
    )
    op.create_index(op.f('ix_mail_preferences_user_id'), 'mail_preferences', ['user_id'])
    # Reviews published before the digest existed count as mailed: the first digest
    # must not send a partner its whole history.
    op.add_column('reviews', sa.Column('digest_mailed_at', sa.DateTime(timezone=True),
                                       nullable=True))
    reviews = sa.table('reviews', sa.column('status', sa.String()),
                       sa.column('moderated_at', sa.DateTime(timezone=True)),
                       sa.column('created_at', sa.DateTime(timezone=True)),
                       sa.column('digest_mailed_at', sa.DateTime(timezone=True)))
    op.execute(reviews.update().where(reviews.c.status == 'published')
               .values(digest_mailed_at=sa.func.coalesce(reviews.c.moderated_at,
                                                         reviews.c.created_at)))
    op.create_index('ix_reviews_digest_due', 'reviews', ['status', 'digest_mailed_at'])


def downgrade() -> None:
    op.drop_index('ix_reviews_digest_due', table_name='reviews')
    op.drop_column('reviews', 'digest_mailed_at')
    op.drop_index(op.f('ix_mail_preferences_user_id'), table_name='mail_preferences')
    op.drop_table('mail_preferences')
