"""Accounts: users and their roles, sign-in failures, workspaces with their members
and invitations, and the notices left for a workspace."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.db import utcnow


class Role(StrEnum):
    CUSTOMER = "customer"
    PARTNER = "partner"
    EDITOR = "editor"
    ADMIN = "admin"


def new_session_token() -> str:
    """A fresh random value for ``User.session_token``."""
    return secrets.token_urlsafe(32)


class UserBase(SQLModel):
    email: str = Field(max_length=254, unique=True, index=True)
    display_name: str = Field(max_length=80)
    role: str = Field(default=Role.CUSTOMER, max_length=20)


class User(UserBase, UserMixin, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=255)
    # A partner member belongs to exactly one partner organisation.
    partner_id: int | None = Field(default=None, foreign_key="partners.id", index=True)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    # Set when the person deleted their account; the row stays, anonymised,
    # so reviews and audit entries keep a (nameless) author.
    deleted_at: datetime | None = None
    # What the session and the remember-me cookie carry instead of the id (Flask-Login's
    # "alternative tokens"): replacing it signs out every device at once.
    # https://flask-login.readthedocs.io/en/latest/#alternative-tokens
    # Kept out of repr() so a logged user object never shows it.
    session_token: str = Field(default_factory=new_session_token, max_length=64, unique=True,
                               index=True, repr=False)
    # When the person proved the address is theirs (a link mailed to it); until then a
    # customer can browse and install free apps but not pay, invite or review.
    email_verified_at: datetime | None = None

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    def get_id(self) -> str:  # flask-login
        # The token of the device this user object was signed in or loaded by
        # (accounts.devices); the session and remember-me cookies carry it.
        return getattr(self, "_device_token", None) or ""

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def rotate_session_token(self) -> None:
        """Sign out every session and remember-me cookie of this user."""
        self.session_token = new_session_token()

    @property
    def is_editor(self) -> bool:
        """Editors moderate; admins can do everything an editor can."""
        return self.role in (Role.EDITOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_partner(self) -> bool:
        return self.role == Role.PARTNER and self.partner_id is not None


class UserPublic(UserBase):
    id: int


class UserSession(SQLModel, table=True):
    """One signed-in device: its session and remember-me cookies carry a token whose
    SHA-256 is ``token_hash``. Deleting the row signs that device out."""

    __tablename__ = "user_sessions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"),
                                          nullable=False, index=True))
    token_hash: str = Field(max_length=64, unique=True, repr=False)
    user_agent: str = Field(default="", max_length=255)
    ip_address: str = Field(default="", max_length=45)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)


class LoginFailure(SQLModel, table=True):
    """One failed sign-in for an email address, kept for the lockout window.

    Keyed by a digest of the typed address, not by user, so an address with no
    account locks exactly like one with an account (and typed addresses are not kept).
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_digest_failed_at", "email_digest", "failed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    email_digest: str = Field(max_length=64)
    failed_at: datetime = Field(default_factory=utcnow, index=True)


# --- workspaces and installs ----------------------------------------------------

class WorkspaceRole(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


class Workspace(SQLModel, table=True):
    """A customer's team: apps are installed into a workspace, not for one person."""

    __tablename__ = "workspaces"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow)
    # Set when the workspace's last member deleted their account: its installs
    # are gone and every app it ever installed was told to redact its data.
    deleted_at: datetime | None = None


class WorkspaceMember(SQLModel, table=True):
    __tablename__ = "workspace_members"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    # Only a workspace admin may install or uninstall apps.
    role: str = Field(default=WorkspaceRole.MEMBER, max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class WorkspaceInvitation(SQLModel, table=True):
    """An invitation for someone to join a workspace, accepted through a secret link.

    Only a SHA-256 hash of the link's token is stored.
    """

    __tablename__ = "workspace_invitations"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    email: str = Field(max_length=254)
    role: str = Field(default=WorkspaceRole.MEMBER, max_length=20)
    token_hash: str = Field(max_length=64, unique=True)
    invited_by_id: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    accepted_at: datetime | None = None
    accepted_by_id: int | None = Field(default=None, foreign_key="users.id")
    revoked_at: datetime | None = None


class Notification(SQLModel, table=True):
    """Something a workspace should know: a trial ending, an app disabled or delisted.

    Shown on "My apps" until someone in the workspace dismisses it.
    """

    __tablename__ = "notifications"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    kind: str = Field(max_length=40)
    message: str = Field(sa_column=Column(Text, nullable=False))
    listing_id: int | None = Field(default=None, foreign_key="listings.id")
    # Apps suggested instead (a delisted app's notice): listing ids, best first.
    suggested_listing_ids: list[int] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow)
    dismissed_at: datetime | None = None
