"""The listings package's reads for its pages: the editor console, the partner portal
and the editor's listing review page. No HTTP here (no request, no flask globals):
each function takes a Session and plain values, so it is testable on its own.

The pruning pages' reads are in ``listings.prune_queries``; writes are in
``listings.services``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select

from accounts.models import User
from listings.models import (
    AuditEvent,
    Badge,
    Category,
    Collection,
    CollectionItem,
    Listing,
    ListingStatus,
    Partner,
    Release,
    ReleaseStatus,
    Review,
    ReviewStatus,
    Screenshot,
)

# Listing statuses whose new releases are reviewed one by one (the others are
# approved together with the listing itself).
RELEASE_REVIEW_STATUSES = (ListingStatus.PUBLISHED, ListingStatus.DELISTED)


@dataclass(frozen=True)
class Page:
    """One page of rows, and how many rows there are on every page together."""

    rows: list
    total: int


def _offset(page: int, per_page: int) -> int:
    return (page - 1) * per_page


# --- the editor console ----------------------------------------------------------------


def submissions_in_review(session: Session) -> list[tuple[Listing, Partner, Category]]:
    """Listings waiting for an editor's decision, oldest submission first."""
    return list(session.exec(
        select(Listing, Partner, Category)
        .join(Partner, Partner.id == Listing.partner_id)
        .join(Category, Category.id == Listing.category_id)
        .where(Listing.status == ListingStatus.IN_REVIEW)
        .order_by(col(Listing.submitted_at).asc(), Listing.id)
    ).all())


def releases_awaiting_review(session: Session) -> list[tuple[Release, Listing]]:
    """Pending releases of published or delisted listings, oldest first (a
    submission's releases are decided with the listing, so they are not here)."""
    return list(session.exec(
        select(Release, Listing)
        .join(Listing, Listing.id == Release.listing_id)
        .where(Release.review_status == ReleaseStatus.PENDING,
               col(Listing.status).in_(RELEASE_REVIEW_STATUSES))
        .order_by(Release.created_at, Release.id)
    ).all())


def screenshot_by_filename(session: Session, filename: str) -> Screenshot | None:
    """The screenshot stored under ``filename`` (any listing's), or None."""
    return session.exec(select(Screenshot).where(Screenshot.filename == filename)).first()


def reviews_awaiting_moderation(session: Session, page: int, per_page: int) -> Page:
    """Customers' reviews waiting for moderation, oldest first, as
    (Review, Listing, author User) rows of one page."""
    pending = select(Review).where(Review.status == ReviewStatus.PENDING)
    total = session.exec(select(func.count()).select_from(pending.subquery())).one()
    rows = session.exec(
        select(Review, Listing, User)
        .join(Listing, Listing.id == Review.listing_id)
        .join(User, User.id == Review.author_id)
        .where(Review.status == ReviewStatus.PENDING)
        .order_by(Review.created_at, Review.id)
        .offset(_offset(page, per_page)).limit(per_page)
    ).all()
    return Page(list(rows), total)


def active_badges(session: Session, now: datetime) -> list[tuple[Badge, Listing]]:
    """Every badge neither revoked nor expired at ``now``, with its listing, by
    listing name then badge kind."""
    rows = session.exec(
        select(Badge, Listing).join(Listing, Listing.id == Badge.listing_id)
        .where(col(Badge.revoked_at).is_(None))
        .order_by(Listing.name, Badge.kind)
    ).all()
    # Expiry is compared in Python, as services.active_badges does.
    return [(badge, listing) for badge, listing in rows if badge.is_active(now)]


def collections_in_order(session: Session) -> list[Collection]:
    """Every collection in home page order."""
    return list(session.exec(select(Collection).order_by(Collection.position, Collection.id)).all())


def collection_sizes(session: Session) -> dict[int, int]:
    """{collection id: how many listings it holds}; empty collections are absent."""
    return dict(session.exec(select(CollectionItem.collection_id, func.count())
                             .group_by(CollectionItem.collection_id)).all())


def collection_rows(session: Session, collection_id: int) -> list[tuple[CollectionItem, Listing]]:
    """A collection's items with their listings, in the collection's order."""
    return list(session.exec(
        select(CollectionItem, Listing).join(Listing, Listing.id == CollectionItem.listing_id)
        .where(CollectionItem.collection_id == collection_id)
        .order_by(CollectionItem.position, CollectionItem.id)
    ).all())


def listing_by_slug(session: Session, slug: str) -> Listing | None:
    """The listing with this slug (any status, any partner), or None."""
    return session.exec(select(Listing).where(Listing.slug == slug)).first()


def audit_events(session: Session, page: int, per_page: int, action: str = "") -> Page:
    """One page of the audit log, newest first, as (AuditEvent, actor's display
    name or None for the system) rows; ``action`` keeps only that action."""
    events = select(AuditEvent)
    if action:
        events = events.where(AuditEvent.action == action)
    total = session.exec(select(func.count()).select_from(events.subquery())).one()
    query = (select(AuditEvent, User.display_name)
             .join(User, User.id == AuditEvent.actor_id, isouter=True)
             .order_by(col(AuditEvent.created_at).desc(), col(AuditEvent.id).desc())
             .offset(_offset(page, per_page)).limit(per_page))
    if action:
        query = query.where(AuditEvent.action == action)
    return Page(list(session.exec(query).all()), total)


def audit_actions(session: Session) -> list[str]:
    """Every action the audit log holds, once each, alphabetically (the filter's choices)."""
    return list(session.exec(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all())


# --- one listing: the editor's review page and the partner's detail page -----------------


# The app page's reads are built once, their values bound at each call: building a
# statement cost as much as running it (bench/page-costs).
_SCREENSHOTS = (select(Screenshot).where(Screenshot.listing_id == bindparam("listing_id"))
                .order_by(Screenshot.position, Screenshot.id))


def listing_screenshots(session: Session, listing_id: int) -> list[Screenshot]:
    """A listing's screenshots in display order."""
    return list(session.exec(_SCREENSHOTS, params={"listing_id": listing_id}).all())


def listing_releases(session: Session, listing_id: int) -> list[Release]:
    """A listing's releases, newest first, whatever their review status."""
    return list(session.exec(select(Release).where(Release.listing_id == listing_id)
                             .order_by(col(Release.created_at).desc(), col(Release.id).desc())
                             ).all())


def listing_badges(session: Session, listing_id: int) -> list[Badge]:
    """Every badge a listing was awarded (active, expired or revoked), newest first."""
    return list(session.exec(select(Badge).where(Badge.listing_id == listing_id)
                             .order_by(col(Badge.awarded_at).desc(), col(Badge.id).desc())).all())


def published_reviews_with_authors(session: Session, listing_id: int) -> list[tuple[Review, str]]:
    """A listing's published reviews, newest first, as (Review, author's display name)."""
    return list(session.exec(
        select(Review, User.display_name).join(User, User.id == Review.author_id)
        .where(Review.listing_id == listing_id, Review.status == ReviewStatus.PUBLISHED)
        .order_by(col(Review.created_at).desc(), col(Review.id).desc())
    ).all())


# --- the partner portal ----------------------------------------------------------------


# The storefront's order of categories: the editors' position, then the name.
_CATEGORY_ORDER = (Category.position, Category.name)


def categories_in_order(session: Session) -> list[Category]:
    """Every category in the storefront's order (the listing form's choices)."""
    return list(session.exec(select(Category).order_by(*_CATEGORY_ORDER)).all())


# Built once: the search page reads it for every new search when nothing is kept.
_CATEGORY_NAMES = select(Category.slug, Category.name).order_by(*_CATEGORY_ORDER)


def category_names_in_order(session: Session) -> dict[str, str]:
    """{slug: name} of every category in the storefront's order, read as plain rows
    (the search page's ``category`` filter: its values and labels)."""
    return dict(session.exec(_CATEGORY_NAMES).all())


def partner_listings(session: Session, partner_id: int) -> list[Listing]:
    """The partner's own listings (every status), most recently updated first."""
    return list(session.exec(
        select(Listing).where(Listing.partner_id == partner_id)
        .order_by(col(Listing.updated_at).desc(), col(Listing.id).desc())
    ).all())


def latest_releases(session: Session, listing_ids: list[int]) -> dict[int, Release]:
    """{listing id: its newest release, whatever its review status} in one query;
    listings without a release are absent."""
    if not listing_ids:
        return {}
    releases = session.exec(
        select(Release).where(col(Release.listing_id).in_(listing_ids))
        .order_by(col(Release.created_at).desc(), col(Release.id).desc())
    ).all()
    latest: dict[int, Release] = {}
    for release in releases:
        latest.setdefault(release.listing_id, release)
    return latest


# --- the listing page's version history ---------------------------------------------------


_APPROVED_RELEASES = (
    select(Release).where(Release.listing_id == bindparam("listing_id"),
                          Release.review_status == ReleaseStatus.APPROVED)
    .order_by(col(Release.created_at).desc(), col(Release.id).desc())
    .limit(bindparam("limit")))


def approved_releases(session: Session, listing_id: int, limit: int = 20) -> list[Release]:
    """The listing's newest ``limit`` approved releases, newest first: its public
    version history (pending and rejected releases are the partner's business)."""
    return list(session.exec(_APPROVED_RELEASES,
                             params={"listing_id": listing_id, "limit": limit}).all())
