"""Accounts: users and their roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlmodel import Field, SQLModel

from storefront.db import utcnow


class Role(StrEnum):
    CUSTOMER = "customer"
    PARTNER = "partner"
    EDITOR = "editor"
    ADMIN = "admin"


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

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

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
