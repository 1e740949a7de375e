"""accounts and mail: email verification (users.email_verified_at; every existing user
predates verification, so they count as verified) and one row per signed-in device
(user_sessions), whose token the session cookie carries

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 20:25:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: Union[str, None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('users', sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))
    # Accounts made before verification existed were never asked to verify: count them
    # as verified since they signed up rather than locking them out of paying.
    users = sa.table('users', sa.column('created_at', sa.DateTime(timezone=True)),
                     sa.column('email_verified_at', sa.DateTime(timezone=True)))
    op.execute(users.update().values(email_verified_at=users.c.created_at))

    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        # SHA-256 of the token the session cookie carries: the table alone signs no one in.
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_agent', sa.String(length=255), nullable=False),
        sa.Column('ip_address', sa.String(length=45), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index(op.f('ix_user_sessions_user_id'), 'user_sessions', ['user_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
    # Plain DROP COLUMN (SQLite 3.35+): no copy of users, which other rows point at.
    op.drop_column('users', 'email_verified_at')
