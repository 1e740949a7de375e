"""The search outbox: listings whose search document must be (re)built.

A row is written in the same transaction as the change that alters a listing's
document (see ``search.sync``), one per search target, so a crash or an outage
loses nothing: ``search sync`` applies what is pending and retries failures.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from storefront.db import utcnow


class SearchOutbox(SQLModel, table=True):
    __tablename__ = "search_outbox"
    __table_args__ = (Index("ix_search_outbox_target_available", "target", "available_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    # No foreign key: a row must outlive its listing so the index can drop it.
    listing_id: int = Field(index=True)
    target: str = Field(max_length=20)  # "embedded" or "opensearch"
    created_at: datetime = Field(default_factory=utcnow)
    # A failed row waits until then before it is retried (exponential backoff).
    available_at: datetime = Field(default_factory=utcnow)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
