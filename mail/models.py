"""The mail outbox: one row per message, written in the same transaction as the
change that causes it and sent after commit (mail/sender.py).

A row is rendered once, when it is queued (mail/compose.py), so what is sent,
retried or shown at /admin/mail is exactly what was composed. Rows are never
deleted by the sender: every message ends ``sent`` or ``failed`` (an admin can
retry it), or stays ``held`` when no SMTP server is configured.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import utcnow


class MailStatus(StrEnum):
    QUEUED = "queued"
    # No MAIL_SERVER: kept for an admin to read at /admin/mail, never an error.
    HELD = "held"
    # Claimed by a sender; a sender that dies leaves it to be claimed again once
    # its lease (``locked_until``) runs out.
    SENDING = "sending"
    SENT = "sent"
    # The attempts ran out or the server refused it for good; an admin can retry.
    FAILED = "failed"


class MailMessage(SQLModel, table=True):
    __tablename__ = "mail_messages"
    __table_args__ = (
        # The sender asks for queued (or abandoned sending) rows that are due.
        Index("ix_mail_messages_status_next_attempt", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # One message per key: queuing the same key again returns the first row, so a
    # retried request or job never mails twice.
    idempotency_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=60, index=True)
    # Security mail (password reset, email change) cannot be turned off and is
    # sent before other due mail.
    security: bool = False
    to_address: str = Field(max_length=320)
    user_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL",
                                index=True)
    subject: str = Field(sa_column=Column(Text, nullable=False))
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str = Field(sa_column=Column(Text, nullable=False))
    # Extra headers, such as List-Unsubscribe: {"name": "value"}.
    headers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Fixed when queued, so a message sent again after a crash is the same message
    # to the receiver, which drops the duplicate.
    message_id: str = Field(max_length=250, unique=True)
    status: str = Field(default=MailStatus.QUEUED, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default_factory=utcnow)
    locked_until: datetime | None = None
    # What the SMTP server said, or why it could not be reached; never a password.
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None


class MailPreference(SQLModel, table=True):
    """A person's choice for one kind of notice mail. No row: the kind is on (the
    default). Security mail (password reset, email change) has no row: it cannot be
    turned off."""

    __tablename__ = "mail_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=60)
    opted_out: bool = True
    updated_at: datetime = Field(default_factory=utcnow)
