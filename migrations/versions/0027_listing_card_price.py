"""listing card price: what a listing's card says of its price (listings.card_price,
card_interval, plan_count, kept by listings/plans.py): the cheapest monthly plan (else a
yearly one; for usage the cheapest unit price) and "From" when there are several. Each
listing with plan rows gets them from its active plans; the others keep NULL (their
price columns are their one plan).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 13:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
down_revision: Union[str, None] = '0026'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Plain ALTERs, not a batch: SQLite adds a column in place, where copying the
    # table would have to drop it, which its plans, installs and reviews forbid.
    op.add_column('listings', sa.Column('card_price', sa.Integer(), nullable=True))
    op.add_column('listings', sa.Column('card_interval', sa.String(length=10), nullable=True))
    op.add_column('listings', sa.Column('plan_count', sa.Integer(), nullable=False,
                                        server_default='1'))

    listings = sa.table('listings', sa.column('id', sa.Integer()),
                        sa.column('pricing_model', sa.String()),
                        sa.column('card_price', sa.Integer()),
                        sa.column('card_interval', sa.String()),
                        sa.column('plan_count', sa.Integer()))
    plans = sa.table('listing_plans', sa.column('listing_id', sa.Integer()),
                     sa.column('interval', sa.String()), sa.column('price', sa.Integer()),
                     sa.column('unit_price', sa.Integer()), sa.column('position', sa.Integer()),
                     sa.column('id', sa.Integer()), sa.column('retired_at', sa.DateTime()))
    connection = op.get_bind()
    offered: dict[int, list] = {}
    for plan in connection.execute(
            sa.select(plans).where(plans.c.retired_at.is_(None))
            .order_by(plans.c.listing_id, plans.c.position, plans.c.id)):
        offered.setdefault(plan.listing_id, []).append(plan)
    if not offered:
        return
    models = dict(connection.execute(sa.select(listings.c.id, listings.c.pricing_model)
                                     .where(listings.c.id.in_(list(offered)))).all())
    # The same choice as listings.plans.card_plan, on plain rows (a migration does not
    # import the app's models, which move on after it).
    for listing_id, rows in offered.items():
        if models.get(listing_id) == 'usage':
            shown = min(rows, key=lambda row: (row.unit_price, row.position))
            price = shown.unit_price
        else:
            monthly = [row for row in rows if row.interval == 'month']
            shown = min(monthly or rows, key=lambda row: (row.price, row.position))
            price = shown.price
        connection.execute(listings.update().where(listings.c.id == listing_id).values(
            card_price=price, card_interval=shown.interval, plan_count=len(rows)))


def downgrade() -> None:
    # In place too (SQLite 3.35 and later drop a column without copying the table).
    for column in ('plan_count', 'card_interval', 'card_price'):
        op.drop_column('listings', column)
