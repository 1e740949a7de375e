"""stale-app pruning: flags, exemptions, runs, partner notices, job leases;
suggested apps on notifications; usage events by listing and time

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 16:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('prune_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('flagged', sa.Integer(), nullable=False),
    sa.Column('cleared', sa.Integer(), nullable=False),
    sa.Column('delisted', sa.Integer(), nullable=False),
    sa.Column('relisted', sa.Integer(), nullable=False),
    sa.Column('archived', sa.Integer(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('prune_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prune_runs_started_at'), ['started_at'], unique=False)

    op.create_table('listing_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('grace_ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cleared_reason', sa.String(length=20), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['prune_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('listing_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_flags_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_listing_flags_grace_ends_at'), ['grace_ends_at'], unique=False)
        batch_op.create_index('uq_listing_flags_open_listing_rule', ['listing_id', 'rule'], unique=True,
                              sqlite_where=sa.text('cleared_at IS NULL'),
                              postgresql_where=sa.text('cleared_at IS NULL'))

    op.create_table('listing_exemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('listing_exemptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_exemptions_listing_id'), ['listing_id'], unique=False)

    op.create_table('partner_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dismissed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], ),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('partner_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_notices_partner_id'), ['partner_id'], unique=False)

    op.create_table('job_leases',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )

    # Plain ADD COLUMN (nullable, no default): no table rebuild on SQLite.
    op.add_column('listings', sa.Column('delisted_by', sa.String(length=20), nullable=True))
    op.add_column('notifications', sa.Column('suggested_listing_ids', sa.JSON(), nullable=True))
    op.create_index('ix_usage_events_listing_occurred', 'usage_events', ['listing_id', 'occurred_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_usage_events_listing_occurred', table_name='usage_events')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('suggested_listing_ids')
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_column('delisted_by')
    op.drop_table('job_leases')
    with op.batch_alter_table('partner_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_notices_partner_id'))
    op.drop_table('partner_notices')
    with op.batch_alter_table('listing_exemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_exemptions_listing_id'))
    op.drop_table('listing_exemptions')
    with op.batch_alter_table('listing_flags', schema=None) as batch_op:
        batch_op.drop_index('uq_listing_flags_open_listing_rule', sqlite_where=sa.text('cleared_at IS NULL'),
                            postgresql_where=sa.text('cleared_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_listing_flags_grace_ends_at'))
        batch_op.drop_index(batch_op.f('ix_listing_flags_listing_id'))
    op.drop_table('listing_flags')
    with op.batch_alter_table('prune_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prune_runs_started_at'))
    op.drop_table('prune_runs')
