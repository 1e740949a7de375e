"""payout accounts, invoices, ledger

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 15:15:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('billing_payout_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_account_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('charges_enabled', sa.Boolean(), nullable=False),
    sa.Column('payouts_enabled', sa.Boolean(), nullable=False),
    sa.Column('details_submitted', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'partner_id'),
    sa.UniqueConstraint('provider_account_id')
    )
    with op.batch_alter_table('billing_payout_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_payout_accounts_partner_id'), ['partner_id'], unique=False)

    op.create_table('billing_invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_invoice_id', sa.String(length=255), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_due', sa.BigInteger(), nullable=False),
    sa.Column('amount_paid', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hosted_invoice_url', sa.String(length=500), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], ),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider', 'provider_invoice_id')
    )
    with op.batch_alter_table('billing_invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_invoices_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_invoices_paid_at'), ['paid_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_invoices_subscription_id'), ['subscription_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_invoices_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('billing_ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('gross', sa.BigInteger(), nullable=False),
    sa.Column('platform_fee', sa.BigInteger(), nullable=False),
    sa.Column('partner_net', sa.BigInteger(), nullable=False),
    sa.Column('fee_percent', sa.String(length=10), nullable=False),
    sa.Column('partner_tier', sa.String(length=20), nullable=False),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoices.id'], ),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], ),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invoice_id')
    )
    with op.batch_alter_table('billing_ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_ledger_entries_booked_at'), ['booked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_ledger_entries_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_billing_ledger_entries_partner_id'), ['partner_id'], unique=False)




def downgrade() -> None:
    with op.batch_alter_table('billing_ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_ledger_entries_partner_id'))
        batch_op.drop_index(batch_op.f('ix_billing_ledger_entries_listing_id'))
        batch_op.drop_index(batch_op.f('ix_billing_ledger_entries_booked_at'))

    op.drop_table('billing_ledger_entries')
    with op.batch_alter_table('billing_invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_invoices_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_billing_invoices_subscription_id'))
        batch_op.drop_index(batch_op.f('ix_billing_invoices_paid_at'))
        batch_op.drop_index(batch_op.f('ix_billing_invoices_listing_id'))

    op.drop_table('billing_invoices')
    with op.batch_alter_table('billing_payout_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_payout_accounts_partner_id'))

    op.drop_table('billing_payout_accounts')

