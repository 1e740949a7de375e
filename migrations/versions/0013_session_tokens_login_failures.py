"""sessions and sign-in lockout: a per-user session token (rotated on sign-out,
password change and "sign out everywhere"); failed sign-ins counted per address

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 14:30:00
"""
import secrets
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0013'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite can only make a NOT NULL column NOT NULL by copying the table, and users
    # can't be dropped and copied while other rows point at it (foreign keys are on).
    # There it is added NOT NULL with a placeholder default (allowed without a copy),
    # which the app never relies on: it always sets a token (and the unique index below
    # stops a second row without one).
    op.add_column('users', sa.Column('session_token', sa.String(length=64), nullable=not sqlite,
                                     server_default='' if sqlite else None))
    # Every existing user gets a random token of their own. Sessions and remember-me
    # cookies made before this carried the numeric id, so they sign out once.
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('session_token', sa.String()))
    bind = op.get_bind()
    for (user_id,) in bind.execute(sa.select(users.c.id)).all():
        bind.execute(users.update().where(users.c.id == user_id)
                     .values(session_token=secrets.token_urlsafe(32)))
    if not sqlite:
        op.alter_column('users', 'session_token', existing_type=sa.String(length=64), nullable=False)
    op.create_index(op.f('ix_users_session_token'), 'users', ['session_token'], unique=True)

    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email_digest', sa.String(length=64), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_email_digest_failed_at', ['email_digest', 'failed_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_login_failures_failed_at'), ['failed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_failed_at'))
        batch_op.drop_index('ix_login_failures_email_digest_failed_at')
    op.drop_table('login_failures')
    # Plain DROP COLUMN (SQLite 3.35+): no copy of users, which other rows point at.
    op.drop_index(op.f('ix_users_session_token'), table_name='users')
    op.drop_column('users', 'session_token')
