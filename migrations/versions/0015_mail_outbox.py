"""mail outbox: one row per message, queued with the change that causes it and sent
after commit; an idempotency key keeps a retried request from mailing twice

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 20:15:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: Union[str, None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'mail_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('security', sa.Boolean(), nullable=False),
        sa.Column('to_address', sa.String(length=320), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('text_body', sa.Text(), nullable=False),
        sa.Column('html_body', sa.Text(), nullable=False),
        sa.Column('headers', sa.JSON(), nullable=False),
        sa.Column('message_id', sa.String(length=250), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        # The account may go; the record of what was mailed to the address stays.
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('idempotency_key'),
        sa.UniqueConstraint('message_id'),
    )
    op.create_index(op.f('ix_mail_messages_created_at'), 'mail_messages', ['created_at'])
    op.create_index(op.f('ix_mail_messages_kind'), 'mail_messages', ['kind'])
    op.create_index('ix_mail_messages_status_next_attempt', 'mail_messages',
                    ['status', 'next_attempt_at'])
    op.create_index(op.f('ix_mail_messages_user_id'), 'mail_messages', ['user_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_mail_messages_user_id'), table_name='mail_messages')
    op.drop_index('ix_mail_messages_status_next_attempt', table_name='mail_messages')
    op.drop_index(op.f('ix_mail_messages_kind'), table_name='mail_messages')
    op.drop_index(op.f('ix_mail_messages_created_at'), table_name='mail_messages')
    op.drop_table('mail_messages')
