"""The stale-app pruning tables: rules and their flags, exemptions, runs, and the
notices partners get (docs/prune.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from core.db import utcnow


class PruneRule(StrEnum):
    """The published rules the nightly prune job applies (see ``listings/prune_rules.py``)."""

    NO_RECENT_RELEASE = "no_recent_release"
    FEW_ACTIVE_INSTALLS = "few_active_installs"
    CERTIFICATION_EXPIRED = "certification_expired"
    WEBHOOK_FAILING = "webhook_failing"
    NEVER_INSTALLED = "never_installed"


class FlagClearedReason(StrEnum):
    FIXED = "fixed"          # the cause went away (a release, a recertification, installs...)
    EXEMPTED = "exempted"    # an editor exempted the listing from the rule
    RULE_OFF = "rule_off"    # the rule was switched off in configuration
    ARCHIVED = "archived"    # the listing reached the end of the line


class ListingFlag(SQLModel, table=True):
    """A published rule a listing breaks, found by a prune run.

    While open (``cleared_at`` is None) the partner sees it with how to fix it;
    once ``grace_ends_at`` passes the listing is delisted. At most one open
    flag per listing and rule (a partial unique index), so reruns add nothing.
    """

    __tablename__ = "listing_flags"
    __table_args__ = (
        Index("uq_listing_flags_open_listing_rule", "listing_id", "rule", unique=True,
              sqlite_where=text("cleared_at IS NULL"),
              postgresql_where=text("cleared_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    rule: str = Field(max_length=40)
    flagged_at: datetime
    grace_ends_at: datetime = Field(index=True)
    # What the run measured, shown to the partner: {"last_release_at": "...", ...}
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    cleared_at: datetime | None = None
    cleared_reason: str | None = Field(default=None, max_length=20)
    run_id: int | None = Field(default=None, foreign_key="prune_runs.id")


class ListingExemption(SQLModel, table=True):
    """An editor's decision that the prune rules (one, or all when ``rule`` is
    None) do not apply to a listing until ``expires_at``."""

    __tablename__ = "listing_exemptions"

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    rule: str | None = Field(default=None, max_length=40)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    expires_at: datetime
    created_by_id: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    ended_by_id: int | None = Field(default=None, foreign_key="users.id")

    def is_active(self, now: datetime) -> bool:
        return self.ended_at is None and self.expires_at > now


class PruneRunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    # Found still "running" by a later run: the process died half-way; the
    # later run completed what it left.
    INTERRUPTED = "interrupted"


class PruneRun(SQLModel, table=True):
    """One run of ``flask listings prune`` (or an editor's dry-run preview)."""

    __tablename__ = "prune_runs"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None
    # The moment the rules were evaluated at (``--now``; the start time otherwise).
    as_of: datetime
    dry_run: bool = False
    trigger: str = Field(default="cli", max_length=20)  # "cli" or "editor"
    status: str = Field(default=PruneRunStatus.RUNNING, max_length=20)
    flagged: int = 0
    cleared: int = 0
    delisted: int = 0
    relisted: int = 0
    archived: int = 0
    # [{"action": "flagged", "listing_id": 1, "slug": "...", "name": "...", "rules": [...]}, ...]
    # capped (see ``prune.ACTIONS_KEPT``); the counts above are exact.
    actions: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text))


class PartnerNotice(SQLModel, table=True):
    """Something a partner must know about a listing (flagged, delisted,
    archived, cleared); shown in the partner portal until dismissed."""

    __tablename__ = "partner_notices"

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partners.id", index=True)
    listing_id: int | None = Field(default=None, foreign_key="listings.id")
    kind: str = Field(max_length=40)
    message: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    dismissed_at: datetime | None = None
