"""Tables of the infrastructure itself (no domain package's)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class JobLease(SQLModel, table=True):
    """Who runs a scheduled job now, until when: the lock of jobs on SQLite
    (PostgreSQL uses an advisory lock). Taken and extended by conditional
    UPDATEs; a holder that died lets its lease run out (see ``core/locks.py``)."""

    __tablename__ = "job_leases"

    name: str = Field(primary_key=True, max_length=60)
    holder: str | None = Field(default=None, max_length=120)
    expires_at: datetime | None = None
