"""Search documents: what the search index knows about each published listing.

The database is the source of truth; these functions read it in a fixed number
of queries per batch, whatever the batch size, and return plain dicts with the
keys of ``search.interfaces.DOCUMENT_FIELDS``.

They read plain rows, not model objects, and the description's text as the
listing stores it (``Listing.description_text``): for a 100,000-listing reindex,
rendering every description's Markdown and building model objects for the
listings and their releases cost more than everything else together
(docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import Row, Select
from sqlmodel import Session, col, func, select

from listings.badges import shown_badge_kinds
from listings.models import (
    Badge,
    Category,
    Listing,
    ListingStatus,
    Partner,
    PricingModel,
    Release,
    ReleaseStatus,
)
from listings.ports import installs_port
from listings.ranking import rating_score
from listings.scopes import is_write_scope
from listings.services import active_badges, rating_summaries

BATCH_SIZE = 1000

# What a document reads of each published listing, with its partner's and its
# category's names, in id order.
PUBLISHED_ROWS: Select = (
    select(Listing.id, Listing.slug, Listing.name, Listing.tagline, Listing.description_text,
           Listing.tags, Listing.pricing_model, Listing.trial_days, Listing.data_residency,
           Listing.published_at, Listing.updated_at, Partner.name.label("partner"),
           Category.name.label("category"), Category.slug.label("category_slug"))
    .join(Partner, Partner.id == Listing.partner_id)
    .join(Category, Category.id == Listing.category_id)
    .where(Listing.status == ListingStatus.PUBLISHED)
    .order_by(Listing.id)
)


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def to_search_document(listing: Row, scopes: list[str],
                       rating: tuple[float, int] | None = None, badges: Iterable[Badge] = (),
                       installs: tuple[int, int] = (0, 0)) -> dict:
    """The search document of one published listing, from its row of
    ``PUBLISHED_ROWS``, the scopes of its current release, its rating (average,
    count), its active badges and its install counts (all, active)."""
    rating_average, rating_count = rating or (0.0, 0)
    return {
        "id": listing.id,
        "slug": listing.slug,
        "name": listing.name,
        "tagline": listing.tagline,
        "description": listing.description_text,
        "category": listing.category,
        "category_slug": listing.category_slug,
        "tags": list(listing.tags),
        "partner": listing.partner,
        "pricing_model": listing.pricing_model,
        "is_free": listing.pricing_model == PricingModel.FREE,
        "has_trial": listing.trial_days > 0,
        # The "Top rated" badge is derived from the reviews (listings/badges.py), so
        # the search filter by badge finds exactly the apps that wear it.
        "badges": shown_badge_kinds(badges, rating_average, rating_count),
        "scopes": scopes,
        "write_access": any(is_write_scope(scope) for scope in scopes),
        "regions": list(listing.data_residency),
        "rating_average": float(rating_average or 0.0),
        "rating_count": rating_count,
        "rating_score": rating_score(rating_average, rating_count),
        "installs": installs[0],
        "active_installs": installs[1],
        "published_at": _iso(listing.published_at),
        "updated_at": _iso(listing.updated_at),
    }


def _current_scopes(session: Session, listing_ids: list[int]) -> dict[int, list[str]]:
    """The scope names of each listing's newest approved release, in one query."""
    rows = session.execute(
        select(Release.listing_id, Release.scopes)
        .where(col(Release.listing_id).in_(listing_ids),
               Release.review_status == ReleaseStatus.APPROVED)
        .order_by(Release.listing_id, col(Release.created_at).desc(), col(Release.id).desc())
    ).all()
    newest: dict[int, list[str]] = {}
    for listing_id, scopes in rows:
        if listing_id not in newest:
            newest[listing_id] = [item["scope"] for item in scopes]
    return newest


def _documents(session: Session, listings: Select) -> list[dict]:
    """Documents for the rows of ``listings`` (``PUBLISHED_ROWS`` narrowed down)."""
    rows = session.execute(listings).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    scopes = _current_scopes(session, ids)
    ratings = rating_summaries(session, ids)
    badges = active_badges(session, ids)
    installs = installs_port(session).counts(session, ids)
    return [to_search_document(row, scopes.get(row.id, []), ratings.get(row.id),
                               badges.get(row.id, ()), installs.get(row.id, (0, 0)))
            for row in rows]


def search_documents(session: Session, listing_ids: Sequence[int]) -> list[dict]:
    """Documents for those of ``listing_ids`` that are published (others have none)."""
    ids = list(dict.fromkeys(listing_ids))
    if not ids:
        return []
    return _documents(session, PUBLISHED_ROWS.where(col(Listing.id).in_(ids)))


def published_listing_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Listing)
                        .where(Listing.status == ListingStatus.PUBLISHED)).one()


def iter_published_documents(session: Session, batch_size: int = BATCH_SIZE) -> Iterator[dict]:
    """Every published listing's document, read in id order, ``batch_size`` at a time."""
    last_id = 0
    while True:
        documents = _documents(session, PUBLISHED_ROWS.where(Listing.id > last_id)
                               .limit(batch_size))
        if not documents:
            return
        yield from documents
        last_id = documents[-1]["id"]
        session.expunge_all()  # the batch's badges: keeps memory flat over 100k listings
