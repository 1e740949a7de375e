"""billing customers, provider objects, usage events

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 14:45:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('billing_provider_objects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('local_key', sa.String(length=255), nullable=False),
    sa.Column('provider_id', sa.String(length=255), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'kind', 'local_key')
    )
    with op.batch_alter_table('billing_provider_objects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_provider_objects_provider_id'), ['provider_id'], unique=False)

    op.create_table('billing_customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_customer_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'workspace_id')
    )
    with op.batch_alter_table('billing_customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_customers_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('usage_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('install_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['install_id'], ['installs.id'], ),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('listing_id', 'event_id')
    )
    with op.batch_alter_table('usage_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usage_events_install_id'), ['install_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_usage_events_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_usage_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index('ix_usage_events_status_next_attempt', ['status', 'next_attempt_at'], unique=False)




def downgrade() -> None:
    with op.batch_alter_table('usage_events', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_events_status_next_attempt')
        batch_op.drop_index(batch_op.f('ix_usage_events_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_usage_events_listing_id'))
        batch_op.drop_index(batch_op.f('ix_usage_events_install_id'))

    op.drop_table('usage_events')
    with op.batch_alter_table('billing_customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_customers_workspace_id'))

    op.drop_table('billing_customers')
    with op.batch_alter_table('billing_provider_objects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_provider_objects_provider_id'))

    op.drop_table('billing_provider_objects')

