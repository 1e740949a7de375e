"""Partner webhooks: one delivery row per event, and every attempt to deliver it.

The delivery row is the outbox: it is written in the same transaction as the
change it reports, and a sender posts it after commit, retrying with
exponential backoff until the partner's endpoint answers 2xx or the attempts
run out.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from core.db import utcnow


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    # Every attempt failed; the partner can redeliver it from the portal.
    FAILED = "failed"


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The sender asks for pending rows that are due.
        Index("ix_webhook_deliveries_status_next_attempt", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The event's id, sent in the payload and the headers; the same on redelivery,
    # so a receiver can drop a duplicate.
    event_id: str = Field(max_length=64, unique=True)
    event_type: str = Field(max_length=60)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    install_id: int | None = Field(default=None, foreign_key="installs.id")
    url: str = Field(max_length=500)
    # The exact JSON body that is signed and sent.
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=DeliveryStatus.PENDING, max_length=20)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default_factory=utcnow)
    # A sender holds the row until then, so two senders never post it together.
    locked_until: datetime | None = None
    last_attempt_at: datetime | None = None
    response_status: int | None = None
    response_body: str | None = Field(default=None, sa_column=Column(Text))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    delivered_at: datetime | None = None


class WebhookAttempt(SQLModel, table=True):
    """One POST of a delivery and what the partner's endpoint answered."""

    __tablename__ = "webhook_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_deliveries.id", index=True)
    attempted_at: datetime = Field(default_factory=utcnow)
    duration_ms: int = 0
    response_status: int | None = None
    # The start of the answer's body (at most a few KB), for the partner to read.
    response_body: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))
