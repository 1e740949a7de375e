"""The search outbox, and a lease per search target.

An outbox row is written for every search target (the embedded index, and
OpenSearch when configured) in the same transaction as any change that alters
a listing's search document, so a crash or an outage loses nothing. A target's
rows are deleted once applied; rows that fail wait (with backoff) and are
retried, and the other targets go on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from core.db import utcnow


class SearchOutbox(SQLModel, table=True):
    __tablename__ = "search_outbox"
    __table_args__ = (Index("ix_search_outbox_target_available", "target", "available_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # No foreign key: a row must outlive its listing so the index can drop it.
    listing_id: int
    target: str = Field(max_length=20)  # "embedded" or "opensearch"
    created_at: datetime = Field(default_factory=utcnow)
    available_at: datetime = Field(default_factory=utcnow)  # later after a failure
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class SearchSyncState(SQLModel, table=True):
    """One row per target: who is applying it now, and how the last try went."""

    __tablename__ = "search_sync_state"

    target: str = Field(primary_key=True, max_length=20)
    # A lease, not a lock: whoever holds it applies (or rebuilds) the target; it
    # expires by itself if the holder dies, so a crash never wedges the sync.
    lease_until: datetime | None = None
    attempts: int = Field(default=0)  # failures in a row
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    retry_at: datetime | None = None
    synced_at: datetime | None = None


class SynonymRule(SQLModel, table=True):
    """A synonym line an editor added in the console (search/synonyms.py reads the
    format). Rows are never edited, only added and removed, and SQLite is told never to
    reuse an id: the count and highest id then tell every process when they changed."""

    __tablename__ = "search_synonyms"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    line: str = Field(max_length=500)  # tidied as entered: "e-mail, email"
    # An editor's account may go; the line stays, nameless.
    created_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
