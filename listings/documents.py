"""Search documents: what the search index knows about each published listing.

The database is the source of truth; these functions read it in a fixed number
of queries per batch, whatever the batch size, and return plain dicts with the
keys of ``search.interfaces.DOCUMENT_FIELDS``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlmodel import Session, col, func, select

from core.markdown import markdown_to_text
from listings.browsing import ListingCard, listing_cards
from listings.models import Listing, ListingStatus, Release, ReleaseStatus
from listings.ports import installs_port
from listings.scopes import is_write_scope

BATCH_SIZE = 1000


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def to_search_document(card: ListingCard, release: Release | None,
                       installs: tuple[int, int] = (0, 0)) -> dict:
    """The search document of one published listing, from its card (the listing
    with its partner, category, rating and active badges) and current release."""
    listing = card.listing
    scopes = release.scope_names if release else []
    return {
        "id": listing.id,
        "slug": listing.slug,
        "name": listing.name,
        "tagline": listing.tagline,
        "description": markdown_to_text(listing.description),
        "category": card.category.name,
        "category_slug": card.category.slug,
        "tags": list(listing.tags),
        "partner": card.partner.name,
        "pricing_model": listing.pricing_model,
        "is_free": listing.is_free,
        "has_trial": listing.trial_days > 0,
        "badges": sorted({badge.kind for badge in card.badges}),
        "scopes": scopes,
        "write_access": any(is_write_scope(scope) for scope in scopes),
        "regions": list(listing.data_residency),
        "rating_average": float(card.rating_average or 0.0),
        "rating_count": card.rating_count,
        "installs": installs[0],
        "active_installs": installs[1],
        "published_at": _iso(listing.published_at),
        "updated_at": _iso(listing.updated_at),
    }


def _current_releases(session: Session, listing_ids: list[int]) -> dict[int, Release]:
    """The newest approved release of each listing, in one query."""
    releases = session.exec(
        select(Release).where(col(Release.listing_id).in_(listing_ids),
                              Release.review_status == ReleaseStatus.APPROVED)
        .order_by(Release.listing_id, col(Release.created_at).desc(), col(Release.id).desc())
    ).all()
    newest: dict[int, Release] = {}
    for release in releases:
        newest.setdefault(release.listing_id, release)
    return newest


def search_documents(session: Session, listing_ids: Sequence[int]) -> list[dict]:
    """Documents for those of ``listing_ids`` that are published (others have none)."""
    ids = list(dict.fromkeys(listing_ids))
    if not ids:
        return []
    listings = session.exec(select(Listing).where(col(Listing.id).in_(ids),
                                                  Listing.status == ListingStatus.PUBLISHED)
                            .order_by(Listing.id)).all()
    if not listings:
        return []
    published_ids = [listing.id for listing in listings]
    releases = _current_releases(session, published_ids)
    installs = installs_port(session).counts(session, published_ids)
    return [to_search_document(card, releases.get(card.listing.id),
                               installs.get(card.listing.id, (0, 0)))
            for card in listing_cards(session, list(listings))]


def published_listing_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Listing)
                        .where(Listing.status == ListingStatus.PUBLISHED)).one()


def iter_published_documents(session: Session, batch_size: int = BATCH_SIZE) -> Iterator[dict]:
    """Every published listing's document, read in id order, ``batch_size`` at a time."""
    last_id = 0
    while True:
        ids = session.exec(select(Listing.id).where(Listing.status == ListingStatus.PUBLISHED,
                                                    Listing.id > last_id)
                           .order_by(Listing.id).limit(batch_size)).all()
        if not ids:
            return
        yield from search_documents(session, ids)
        last_id = ids[-1]
        session.expunge_all()  # keeps memory flat over 100k listings
