"""The apps wearing a badge, for its public page (``listings.badges`` says what
each badge means)."""

from __future__ import annotations

from sqlmodel import Session, col, func, or_, select

from core.db import utcnow
from listings.badges import EDITORS, BadgeRule
from listings.browsing import ListingCard, listing_cards
from listings.models import Badge, Listing, ListingStatus, Review, ReviewStatus
from listings.ranking import TOP_RATED_MIN_REVIEWS, earns_top_rated, rating_score


def _editor_badge_listings(session: Session, kind: str, page: int,
                           per_page: int) -> tuple[list[Listing], int]:
    now = utcnow()
    wearing = (select(Badge.listing_id)
               .where(Badge.kind == kind, col(Badge.revoked_at).is_(None),
                      or_(col(Badge.expires_at).is_(None), col(Badge.expires_at) > now)))
    base = select(Listing).where(Listing.status == ListingStatus.PUBLISHED,
                                 col(Listing.id).in_(wearing))
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    listings = session.exec(base.order_by(Listing.name, Listing.id)
                            .offset((page - 1) * per_page).limit(per_page)).all()
    return list(listings), total


def _top_rated_listings(session: Session, page: int,
                        per_page: int) -> tuple[list[Listing], int]:
    # The candidates (enough reviews) in one query, judged here by the same
    # function as the cards, on the same one-decimal average they show, so the
    # badge page and the badge on a card never disagree; best score first.
    rows = session.exec(
        select(Review.listing_id, func.avg(Review.rating), func.count())
        .join(Listing, col(Listing.id) == Review.listing_id)
        .where(Review.status == ReviewStatus.PUBLISHED, Listing.status == ListingStatus.PUBLISHED)
        .group_by(Review.listing_id)
        .having(func.count() >= TOP_RATED_MIN_REVIEWS)
    ).all()
    earned = [(rating_score(round(float(average), 1), count), count, listing_id)
              for listing_id, average, count in rows
              if earns_top_rated(round(float(average), 1), count)]
    earned.sort(reverse=True)
    chosen = [listing_id for _, _, listing_id in earned[(page - 1) * per_page:page * per_page]]
    if not chosen:
        return [], len(earned)
    by_id = {listing.id: listing for listing in session.exec(
        select(Listing).where(col(Listing.id).in_(chosen))).all()}
    return [by_id[listing_id] for listing_id in chosen], len(earned)


def badge_listing_cards(session: Session, rule: BadgeRule, page: int,
                        per_page: int) -> tuple[list[ListingCard], int]:
    """One page of the published apps wearing the badge (as cards) and their
    number, in a fixed number of queries: editors' badges by app name, "Top
    rated" by rating score."""
    if rule.decided_by == EDITORS:
        listings, total = _editor_badge_listings(session, rule.kind, page, per_page)
    else:
        listings, total = _top_rated_listings(session, page, per_page)
    return listing_cards(session, listings), total
