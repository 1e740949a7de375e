"""reviews that scale: the reason a review was held, "Was this helpful?" votes and
reports (listings/review_models.py, docs/reviews.md)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 06:40:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0025'
down_revision: Union[str, None] = '0024'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('reviews', sa.Column('hold_reason', sa.Text(), nullable=True))
    op.create_table(
        'review_votes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('review_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['review_id'], ['reviews.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('review_id', 'user_id'),
    )
    op.create_index(op.f('ix_review_votes_user_id'), 'review_votes', ['user_id'])
    op.create_table(
        'review_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('review_id', sa.Integer(), nullable=False),
        sa.Column('reporter_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.Column('resolution', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['review_id'], ['reviews.id']),
        sa.ForeignKeyConstraint(['reporter_id'], ['users.id']),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_review_reports_reporter_id'), 'review_reports', ['reporter_id'])
    op.create_index('ix_review_reports_open', 'review_reports', ['resolved_at', 'review_id'])
    op.create_index('uq_review_reports_open_review_reporter', 'review_reports',
                    ['review_id', 'reporter_id'], unique=True,
                    sqlite_where=sa.text('resolved_at IS NULL'),
                    postgresql_where=sa.text('resolved_at IS NULL'))


def downgrade() -> None:
    op.drop_index('uq_review_reports_open_review_reporter', table_name='review_reports')
    op.drop_index('ix_review_reports_open', table_name='review_reports')
    op.drop_index(op.f('ix_review_reports_reporter_id'), table_name='review_reports')
    op.drop_table('review_reports')
    op.drop_index(op.f('ix_review_votes_user_id'), table_name='review_votes')
    op.drop_table('review_votes')
    with op.batch_alter_table('reviews') as batch:
        batch.drop_column('hold_reason')
