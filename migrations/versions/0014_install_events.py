"""install events: what installs tell webhooks (and anyone above them), one row each

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 20:10:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: Union[str, None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'install_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('listing_id', sa.Integer(), nullable=False),
        sa.Column('install_id', sa.Integer(), nullable=True),
        sa.Column('event_type', sa.String(length=40), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['install_id'], ['installs.id']),
        sa.ForeignKeyConstraint(['listing_id'], ['listings.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_install_events_install_id'), 'install_events', ['install_id'])
    op.create_index(op.f('ix_install_events_listing_id'), 'install_events', ['listing_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_install_events_listing_id'), table_name='install_events')
    op.drop_index(op.f('ix_install_events_install_id'), table_name='install_events')
    op.drop_table('install_events')
