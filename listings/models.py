"""The catalog and its governance: partners, listings, releases, screenshots,
reviews, badges, collections and the audit log.

SQLModel layering (house rule 6): ``*Base`` holds the validated fields shared
by the table model and the ``*Create``/``*Update`` models the forms, the
importer and the services use. Money is integer minor units with a currency.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator, model_validator
from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, event, inspect
from sqlmodel import Field, SQLModel

from core.db import utcnow
from core.markdown import markdown_to_text
from core.money import is_currency
from listings.scopes import REGIONS, SCOPES
from listings.text import CONTROL_IN_TEXT, composed_text, tag_of

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")
CURRENCY_RE = re.compile(r"^[a-z]{3}$")
MAX_TAGS = 10


class PartnerTier(StrEnum):
    REGISTERED = "registered"
    SELECT = "select"
    PREMIER = "premier"


class ListingStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    DELISTED = "delisted"
    ARCHIVED = "archived"


class DelistedBy(StrEnum):
    EDITOR = "editor"
    PRUNE = "prune"


class PricingModel(StrEnum):
    FREE = "free"
    FLAT_MONTHLY = "flat_monthly"
    USAGE = "usage"


class ReviewStatus(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"


class ReleaseStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class BadgeKind(StrEnum):
    STAFF_PICK = "staff_pick"
    SECURITY_REVIEWED = "security_reviewed"
    BUILT_FOR_BAZAAR = "built_for_bazaar"
    TOP_RATED = "top_rated"

    @property
    def label(self) -> str:
        # "Bazaar" is a name: "Built for Bazaar", not "Built for bazaar".
        return self.value.replace("_", " ").capitalize().replace("bazaar", "Bazaar")


def _check_url(value: str | None, required: bool = False) -> str | None:
    if value is None or value.strip() == "":
        if required:
            raise ValueError("is required")
        return None
    value = value.strip()
    if len(value) > 500 or not URL_RE.match(value):
        raise ValueError("must be a full http:// or https:// address")
    return value


# --- partners and categories ---------------------------------------------


class Partner(SQLModel, table=True):
    __tablename__ = "partners"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    tier: str = Field(default=PartnerTier.REGISTERED, max_length=20)
    website_url: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class Category(SQLModel, table=True):
    __tablename__ = "categories"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    description: str = Field(default="", max_length=500)
    position: int = Field(default=0)


# --- listings --------------------------------------------------------------


class ListingBase(SQLModel):
    name: str = Field(max_length=80)
    tagline: str = Field(max_length=140)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    pricing_model: str = Field(default=PricingModel.FREE, max_length=20)
    currency: str = Field(default="usd", max_length=3)
    monthly_price: int = Field(default=0, description="flat monthly price, minor units")
    unit_name: str | None = Field(default=None, max_length=40)
    unit_price: int = Field(default=0, description="price per unit, minor units")
    included_units: int = Field(default=0)
    trial_days: int = Field(default=0)
    website_url: str | None = Field(default=None, max_length=500)
    support_url: str | None = Field(default=None, max_length=500)
    privacy_url: str | None = Field(default=None, max_length=500)
    data_residency: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ListingFields(ListingBase):
    """Validation shared by ``ListingCreate`` and ``ListingUpdate``.

    Table models skip pydantic validation, so the rules live on these input
    models and every write path (forms, import, demo) goes through them.
    """

    @field_validator("name", "tagline")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = composed_text(value.strip())
        if not value:
            raise ValueError("is required")
        return value

    @field_validator("description")
    @classmethod
    def _description_length(cls, value: str) -> str:
        value = composed_text(value, CONTROL_IN_TEXT)
        if len(value) > 20000:
            raise ValueError("must be at most 20,000 characters")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[str]:
        if isinstance(value, str):
            value = value.split(",")
        if value is not None and not isinstance(value, list | tuple):
            raise ValueError("must be a list of words")
        tags: list[str] = []
        for raw in value or []:
            tag = tag_of(str(raw))
            if not tag:
                continue
            if len(tag) > 30:
                raise ValueError(f"tag {raw!r} is longer than 30 characters")
            if tag not in tags:
                tags.append(tag)
        if len(tags) > MAX_TAGS:
            raise ValueError(f"at most {MAX_TAGS} tags")
        return tags

    @field_validator("pricing_model")
    @classmethod
    def _pricing_model(cls, value: str) -> str:
        if value not in {m.value for m in PricingModel}:
            raise ValueError("must be free, flat_monthly or usage")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.strip().lower()
        # A known ISO 4217 code (Babel's list), not just three letters: "xyz" is none.
        if not CURRENCY_RE.match(value) or not is_currency(value):
            raise ValueError("must be a three-letter ISO currency code")
        return value

    @field_validator("monthly_price", "unit_price", "included_units")
    @classmethod
    def _non_negative(cls, value: int) -> int:
        # Messages name no unit: forms take decimals, the importer minor units.
        if value < 0:
            raise ValueError("must not be negative")
        if value > 100_000_000:
            raise ValueError("is too large")
        return value

    @field_validator("trial_days")
    @classmethod
    def _trial_days(cls, value: int) -> int:
        if not 0 <= value <= 90:
            raise ValueError("must be between 0 and 90 days")
        return value

    @field_validator("website_url", "support_url", "privacy_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return _check_url(value)

    @field_validator("data_residency", mode="before")
    @classmethod
    def _regions(cls, value: Any) -> list[str]:
        if isinstance(value, str):
            value = value.split(",")
        if value is not None and not isinstance(value, list | tuple):
            raise ValueError("must be a list of region codes")
        regions: list[str] = []
        for raw in value or []:
            code = str(raw).strip().lower()
            if not code:
                continue
            if code not in REGIONS:
                raise ValueError(f"unknown region {raw!r}; use one of {', '.join(REGIONS)}")
            if code not in regions:
                regions.append(code)
        return regions

    @model_validator(mode="after")
    def _pricing_consistent(self):
        if self.pricing_model == PricingModel.FLAT_MONTHLY and self.monthly_price <= 0:
            raise ValueError("monthly_price: a flat monthly plan needs a price above zero")
        if self.pricing_model == PricingModel.USAGE:
            if not self.unit_name:
                raise ValueError("unit_name: a usage-based plan needs a unit name")
            if self.unit_price <= 0:
                raise ValueError("unit_price: a usage-based plan needs a unit price above zero")
        return self


class ListingCreate(ListingFields):
    slug: str | None = Field(default=None, max_length=80)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        value = value.strip()
        if not SLUG_RE.match(value):
            raise ValueError("use lowercase letters, digits and single hyphens")
        return value


class ListingUpdate(ListingFields):
    pass


class CardPrice:
    """What a listing card shows of its price, for a ``Listing`` and for the plain
    rows a results page reads (``listings.browsing.CardListing``)."""

    __slots__ = ()

    @property
    def is_free(self) -> bool:
        return self.pricing_model == PricingModel.FREE

    @property
    def shown_price(self) -> int:
        """The amount a card shows: a flat price per ``shown_interval``, or for usage
        the price per unit (minor units)."""
        if self.card_price is not None:
            return self.card_price
        return self.unit_price if self.pricing_model == PricingModel.USAGE else self.monthly_price

    @property
    def shown_interval(self) -> str:
        return self.card_interval or "month"


class Listing(CardPrice, ListingBase, table=True):
    __tablename__ = "listings"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    partner_id: int = Field(foreign_key="partners.id", index=True)
    category_id: int = Field(foreign_key="categories.id", index=True)
    status: str = Field(default=ListingStatus.DRAFT, max_length=20, index=True)
    # The editor's reason when a submission was rejected; the partner sees it.
    review_note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    published_at: datetime | None = Field(default=None, index=True)
    delisted_at: datetime | None = None
    # Who delisted it (``DelistedBy``): a listing the prune job delisted is
    # listed again once its flags clear; an editor's delisting stays.
    delisted_by: str | None = Field(default=None, max_length=20)
    archived_at: datetime | None = None
    # Signs webhooks and install tokens; the partner copies it from the portal.
    webhook_secret: str | None = Field(default=None, max_length=80)
    # Where webhooks go; the partner changes it at once (listings/webhook_settings.py).
    webhook_url: str | None = Field(default=None, max_length=500)
    # Set when deliveries to the app's webhook endpoint started failing for good,
    # cleared by the next success; the partner sees it, the prune job reads it.
    webhook_failing_since: datetime | None = None
    webhook_last_error: str | None = Field(default=None, sa_column=Column(Text))
    # The description as plain text, what search documents carry: kept here so a
    # reindex reads it instead of rendering 100k descriptions (see _keep_description_text).
    # Should markdown_to_text ever change, a migration renders it again (as 0019 did).
    description_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # The uploaded icon under UPLOAD_FOLDER/icons (listings/icons.py); None: generated.
    icon_filename: str | None = Field(default=None, max_length=200)
    # What a card says of the price (listings/plans.py keeps them): the cheapest plan
    # a customer compares by (flat: a monthly one if any; usage: its unit price), its
    # interval, and how many plans are offered ("From ..." when more than one).
    # None: no plan rows (imported in bulk): the price columns above are the one plan.
    card_price: int | None = None
    card_interval: str | None = Field(default=None, max_length=10)
    plan_count: int = Field(default=1)


@event.listens_for(Listing, "before_insert")
@event.listens_for(Listing, "before_update")
def _keep_description_text(mapper, connection, listing: Listing) -> None:
    """Whatever writes a listing through the ORM (services, forms, the demo, tests)
    stores the text of a new or changed description with it; the catalog import's
    bulk insert sets it itself. A mapper flush event may set the row's own columns:
    https://docs.sqlalchemy.org/en/20/orm/events.html#sqlalchemy.orm.MapperEvents.before_update
    """
    if inspect(listing).attrs.description.history.has_changes():
        listing.description_text = markdown_to_text(listing.description)


class ListingPublic(ListingBase):
    id: int
    slug: str
    status: str


# --- releases and manifests ------------------------------------------------


class RequestedScope(SQLModel):
    scope: str
    justification: str

    @field_validator("scope")
    @classmethod
    def _known(cls, value: str) -> str:
        value = value.strip()
        if value not in SCOPES:
            raise ValueError(f"unknown scope {value!r}")
        return value

    @field_validator("justification")
    @classmethod
    def _justified(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("every scope needs a justification the customer will read")
        if len(value) > 300:
            raise ValueError("a justification must be at most 300 characters")
        return value


class ReleaseCreate(SQLModel):
    version: str = Field(max_length=40)
    changelog: str = Field(default="", max_length=5000)
    scopes: list[RequestedScope] = Field(default_factory=list)
    redirect_url: str
    webhook_url: str | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        value = value.strip()
        if not VERSION_RE.match(value):
            raise ValueError("use semantic versioning, like 1.4.0")
        return value

    @field_validator("redirect_url")
    @classmethod
    def _redirect(cls, value: str) -> str:
        return _check_url(value, required=True)

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        return _check_url(value)

    @field_validator("scopes")
    @classmethod
    def _unique_scopes(cls, value: list[RequestedScope]) -> list[RequestedScope]:
        names = [item.scope for item in value]
        if len(names) != len(set(names)):
            raise ValueError("a scope is listed twice")
        return value


class Release(SQLModel, table=True):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("listing_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    version: str = Field(max_length=40)
    changelog: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # The manifest: [{"scope": "contacts:read", "justification": "..."}, ...]
    scopes: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    redirect_url: str = Field(max_length=500)
    webhook_url: str | None = Field(default=None, max_length=500)
    review_status: str = Field(default=ReleaseStatus.PENDING, max_length=20)
    review_note: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    reviewed_at: datetime | None = None

    @property
    def scope_names(self) -> list[str]:
        return [item["scope"] for item in self.scopes]


# --- screenshots -------------------------------------------------------------


class Screenshot(SQLModel, table=True):
    __tablename__ = "screenshots"

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    filename: str = Field(max_length=200, unique=True)
    content_type: str = Field(max_length=40)
    width: int
    height: int
    caption: str = Field(default="", max_length=200)
    position: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)


# --- reviews -------------------------------------------------------------------


class ReviewCreate(SQLModel):
    rating: int
    title: str = Field(max_length=120)
    body: str = Field(default="", max_length=5000)

    @field_validator("rating")
    @classmethod
    def _rating(cls, value: int) -> int:
        if not 1 <= value <= 5:
            raise ValueError("must be from 1 to 5 stars")
        return value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("is required")
        return value


class Review(SQLModel, table=True):
    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("listing_id", "author_id"),
        # Rating summaries read (listing, status, rating) for a page of listings;
        # without it SQLite scans every review through the status index.
        Index("ix_reviews_listing_status_rating", "listing_id", "status", "rating"),
        # One review per installing workspace (older reviews have no workspace).
        UniqueConstraint("listing_id", "workspace_id"),
        # The daily review digest asks for published reviews not mailed yet.
        Index("ix_reviews_digest_due", "status", "digest_mailed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    author_id: int = Field(foreign_key="users.id", index=True)
    # The workspace and install that make this a "verified install" review.
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id")
    install_id: int | None = Field(default=None, foreign_key="installs.id")
    rating: int
    title: str = Field(max_length=120)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: str = Field(default=ReviewStatus.PENDING, max_length=20, index=True)
    # Why the automatic checks held it for an editor (listings/review_checks.py).
    hold_reason: str | None = Field(default=None, sa_column=Column(Text))
    moderation_note: str | None = Field(default=None, sa_column=Column(Text))
    moderated_by_id: int | None = Field(default=None, foreign_key="users.id")
    moderated_at: datetime | None = None
    reply_body: str | None = Field(default=None, sa_column=Column(Text))
    replied_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # When the partner's daily review digest mailed it (listings/notices.py).
    digest_mailed_at: datetime | None = None


# --- badges and collections ---------------------------------------------------


class Badge(SQLModel, table=True):
    __tablename__ = "badges"

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    kind: str = Field(max_length=40)
    note: str = Field(default="", max_length=300)
    awarded_by_id: int | None = Field(default=None, foreign_key="users.id")
    awarded_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by_id: int | None = Field(default=None, foreign_key="users.id")

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def label(self) -> str:
        try:
            return BadgeKind(self.kind).label
        except ValueError:
            return self.kind


class Collection(SQLModel, table=True):
    __tablename__ = "collections"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=80)
    description: str = Field(default="", max_length=500)
    position: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)


class CollectionItem(SQLModel, table=True):
    __tablename__ = "collection_items"
    __table_args__ = (UniqueConstraint("collection_id", "listing_id"),)

    id: int | None = Field(default=None, primary_key=True)
    collection_id: int = Field(foreign_key="collections.id", index=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    position: int = Field(default=0)


# --- the catalog's version (listings/catalog_cache.py) ------------------------------


class CatalogVersion(SQLModel, table=True):
    """One row: a token that changes with every change to what the catalog pages
    show, so every process knows when its cached pages are out of date."""

    __tablename__ = "catalog_version"

    id: int = Field(default=1, primary_key=True)
    token: str = Field(max_length=32)
    changed_at: datetime = Field(default_factory=utcnow)


# --- audit log -------------------------------------------------------------------


class AuditEvent(SQLModel, table=True):
    """One editor or admin action: who did what to which object, and why."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    action: str = Field(max_length=60, index=True)
    target_type: str = Field(max_length=40)
    target_id: int | None = None
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)
