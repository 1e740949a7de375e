"""Partner API keys: one listing's app authenticates with one of them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.db import utcnow


class ApiKey(SQLModel, table=True):
    """A key is shown once, at creation; only its SHA-256 hash is kept.

    ``prefix`` is the key's public first part, stored in the clear to find the
    row and to let the partner tell keys apart.
    """

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    prefix: str = Field(max_length=32, unique=True)
    key_hash: str = Field(max_length=64)
    label: str = Field(default="", max_length=80)
    created_by_id: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
