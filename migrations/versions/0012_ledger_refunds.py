"""refunds in the ledger: entries have a kind (charge or refund); one charge per
invoice, one entry per provider refund

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 17:30:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# SQLite's UNIQUE from 0009 has no name; batch mode names what it reflects with
# this convention so it can be dropped. PostgreSQL named it itself.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
CHARGE_ONLY = sa.text("kind = 'charge'")


def _invoice_unique_name() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "billing_ledger_entries_invoice_id_key"
    return "uq_billing_ledger_entries_invoice_id"


def upgrade() -> None:
    with op.batch_alter_table('billing_ledger_entries', naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(_invoice_unique_name(), type_='unique')
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False,
                                      server_default='charge'))
        batch_op.add_column(sa.Column('provider_refund_id', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint('uq_billing_ledger_entries_provider_refund_id',
                                          ['provider_refund_id'])
        batch_op.create_index(batch_op.f('ix_billing_ledger_entries_invoice_id'), ['invoice_id'],
                              unique=False)
        batch_op.create_index('uq_billing_ledger_entries_charge_invoice', ['invoice_id'], unique=True,
                              sqlite_where=CHARGE_ONLY, postgresql_where=CHARGE_ONLY)


def downgrade() -> None:
    # One entry per invoice again: refund entries cannot stay.
    op.execute("DELETE FROM billing_ledger_entries WHERE kind = 'refund'")
    with op.batch_alter_table('billing_ledger_entries', naming_convention=NAMING) as batch_op:
        batch_op.drop_index('uq_billing_ledger_entries_charge_invoice',
                            sqlite_where=CHARGE_ONLY, postgresql_where=CHARGE_ONLY)
        batch_op.drop_index(batch_op.f('ix_billing_ledger_entries_invoice_id'))
        batch_op.drop_constraint('uq_billing_ledger_entries_provider_refund_id', type_='unique')
        batch_op.drop_column('provider_refund_id')
        batch_op.drop_column('kind')
        batch_op.create_unique_constraint(_invoice_unique_name(), ['invoice_id'])
