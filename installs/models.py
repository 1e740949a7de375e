"""Installs: an app installed into a workspace, its trial, and its install tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from core.db import utcnow


class InstallStatus(StrEnum):
    ACTIVE = "active"
    # A trial ended without a payment method: the app is disabled, scopes revoked.
    EXPIRED = "expired"
    UNINSTALLED = "uninstalled"


class Install(SQLModel, table=True):
    """An app installed into a workspace with the scopes the admin consented to.

    Uninstalled rows stay as history, so only *active* installs are unique per
    workspace and listing (a partial unique index).
    """

    __tablename__ = "installs"
    __table_args__ = (
        Index("uq_installs_active_workspace_listing", "workspace_id", "listing_id", unique=True,
              sqlite_where=text("status = 'active'"),
              postgresql_where=text("status = 'active'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    release_id: int = Field(foreign_key="releases.id")
    # The scope names granted at consent; emptied (revoked) on uninstall.
    granted_scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=InstallStatus.ACTIVE, max_length=20)
    installed_by_id: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    uninstalled_at: datetime | None = None
    # The trial this install runs on, while it runs (None for free and paid).
    trial_id: int | None = Field(default=None, foreign_key="trials.id")
    # The price plan chosen at install (listings/plans.py); None for free apps.
    plan_id: int | None = Field(default=None, foreign_key="listing_plans.id")


class TrialStatus(StrEnum):
    ACTIVE = "active"
    CONVERTED = "converted"
    EXPIRED = "expired"
    # Uninstalled before the end; the trial is still used up.
    CANCELLED = "cancelled"


class Trial(SQLModel, table=True):
    """A workspace's one free trial of an app (unique per workspace and listing)."""

    __tablename__ = "trials"
    __table_args__ = (UniqueConstraint("workspace_id", "listing_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    started_at: datetime = Field(default_factory=utcnow)
    ends_at: datetime = Field(index=True)
    # When the "3 days left" reminder went out (to the workspace and the partner).
    reminded_at: datetime | None = None
    ended_at: datetime | None = None
    status: str = Field(default=TrialStatus.ACTIVE, max_length=20, index=True)


class InstallToken(SQLModel, table=True):
    """The single-use token handed to the app's redirect URL after an install.

    The token itself is signed with the listing's secret and never stored; this
    row remembers its id so it can be redeemed once and only before it expires.
    """

    __tablename__ = "install_tokens"

    id: int | None = Field(default=None, primary_key=True)
    token_id: str = Field(max_length=64, unique=True)
    install_id: int = Field(foreign_key="installs.id", index=True)
    listing_id: int = Field(foreign_key="listings.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    redeemed_at: datetime | None = None


class InstallEvent(SQLModel, table=True):
    """Something that happened to an install (or to a retired workspace's installs),
    as the packages above installs hear of it: webhooks turn each into a signed
    delivery to the app's partner in the same transaction (``installs.events``).
    The rows stay as the install's history."""

    __tablename__ = "install_events"

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    install_id: int | None = Field(default=None, foreign_key="installs.id", index=True)
    # A webhook event type: install.created, trial.ended, workspace.data_redact, ...
    event_type: str = Field(max_length=40)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
