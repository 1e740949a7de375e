"""listing plans: several price plans per listing (listings/plans.py), chosen at
install and kept on the install and the subscription; every paid listing's current
price becomes its first plan, "Standard"

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 06:40:00
"""
from datetime import UTC, datetime
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: Union[str, None] = '0022'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    plans = op.create_table(
        'listing_plans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('interval', sa.String(length=10), nullable=False),
        sa.Column('price', sa.Integer(), nullable=False),
        sa.Column('unit_price', sa.Integer(), nullable=False),
        sa.Column('included_units', sa.Integer(), nullable=False),
        sa.Column('listing_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('listing_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_plans_listing_id'), ['listing_id'], unique=False)
    for table in ('installs', 'subscriptions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('plan_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(f'fk_{table}_plan_id_listing_plans', 'listing_plans',
                                        ['plan_id'], ['id'])

    # Each paid listing's one price, as it was, becomes its first plan.
    listings = sa.table('listings', sa.column('id', sa.Integer()),
                        sa.column('pricing_model', sa.String()),
                        sa.column('monthly_price', sa.Integer()),
                        sa.column('unit_price', sa.Integer()),
                        sa.column('included_units', sa.Integer()))
    connection = op.get_bind()
    now = datetime.now(UTC)
    rows = []
    for listing in connection.execute(sa.select(listings).where(
            listings.c.pricing_model.in_(['flat_monthly', 'usage']))).all():
        flat = listing.pricing_model == 'flat_monthly'
        rows.append({'listing_id': listing.id, 'name': 'Standard', 'interval': 'month',
                     'price': listing.monthly_price if flat else 0,
                     'unit_price': 0 if flat else listing.unit_price,
                     'included_units': 0 if flat else listing.included_units,
                     'position': 0, 'created_at': now, 'retired_at': None})
        if len(rows) >= 5000:
            op.bulk_insert(plans, rows)
            rows = []
    if rows:
        op.bulk_insert(plans, rows)


def downgrade() -> None:
    for table in ('subscriptions', 'installs'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_plan_id_listing_plans', type_='foreignkey')
            batch_op.drop_column('plan_id')
    with op.batch_alter_table('listing_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_plans_listing_id'))
    op.drop_table('listing_plans')
