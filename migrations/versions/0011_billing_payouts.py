"""payouts of partners' connected accounts

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 16:50:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('billing_payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_payout_id', sa.String(length=255), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('payout_account_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('arrival_date', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failure_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], ),
    sa.ForeignKeyConstraint(['payout_account_id'], ['billing_payout_accounts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'provider_payout_id')
    )
    with op.batch_alter_table('billing_payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_payouts_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_payouts_arrival_date'), ['arrival_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('billing_payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_payouts_arrival_date'))
        batch_op.drop_index(batch_op.f('ix_billing_payouts_partner_id'))
    op.drop_table('billing_payouts')
