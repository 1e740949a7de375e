"""Browsing the catalog: listing cards, the newest and top-rated apps, a category's
page, the categories with their counts and the collections with their cards."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select

from core.db import utcnow
from listings.badges import shown_badges
from listings.models import (
    Badge,
    CardPrice,
    Category,
    Collection,
    CollectionItem,
    Listing,
    ListingStatus,
    Partner,
    Review,
    ReviewStatus,
)
from listings.ranking import MIN_REVIEWS_ON_SHELF, PRIOR_MEAN, PRIOR_WEIGHT
from listings.services import (
    BADGE_ACTIVE_NOW,
    active_badges,
    rating_summaries,
)


class ListingCard:
    """What a listing tile shows: the listing plus its partner, category, rating and
    the badges it wears (``listings.badges.shown_badges``: editors' and earned ones)."""

    def __init__(self, listing: Listing | CardListing, partner: Partner | CardPartner,
                 category: Category | CardCategory, rating: tuple[float, int] | None,
                 badges: list[Badge]):
        self.listing = listing
        self.partner = partner
        self.category = category
        self.rating_average, self.rating_count = rating or (None, 0)
        self.badges = shown_badges(badges, self.rating_average, self.rating_count)


def listing_cards(session: Session, listings: list[Listing]) -> list[ListingCard]:
    """Cards for ``listings`` in four queries, whatever their number."""
    if not listings:
        return []
    ids = [listing.id for listing in listings]
    partners = {p.id: p for p in session.exec(select(Partner).where(
        col(Partner.id).in_({listing.partner_id for listing in listings}))).all()}
    categories = {c.id: c for c in session.exec(select(Category).where(
        col(Category.id).in_({listing.category_id for listing in listings}))).all()}
    ratings = rating_summaries(session, ids)
    badges = active_badges(session, ids)
    return [ListingCard(listing, partners[listing.partner_id], categories[listing.category_id],
                        ratings.get(listing.id), badges.get(listing.id, []))
            for listing in listings]


def _published():
    return select(Listing).where(Listing.status == ListingStatus.PUBLISHED)


def newest_listings(session: Session, limit: int = 8) -> list[ListingCard]:
    listings = session.exec(_published().order_by(col(Listing.published_at).desc(),
                                                  col(Listing.id).desc()).limit(limit)).all()
    return listing_cards(session, list(listings))


def top_rated_listings(session: Session, limit: int = 8,
                       min_reviews: int = MIN_REVIEWS_ON_SHELF) -> list[ListingCard]:
    """Best rating score (``listings.ranking.rating_score``, computed here in SQL)
    among listings with at least ``min_reviews`` published reviews: what the home
    page shows when search cannot answer."""
    score = ((PRIOR_WEIGHT * PRIOR_MEAN + func.sum(Review.rating) * 1.0)
             / (PRIOR_WEIGHT + func.count()))
    rows = session.exec(
        select(Review.listing_id)
        .join(Listing, Listing.id == Review.listing_id)
        .where(Review.status == ReviewStatus.PUBLISHED, Listing.status == ListingStatus.PUBLISHED)
        .group_by(Review.listing_id)
        .having(func.count() >= min_reviews)
        .order_by(score.desc(), func.count().desc(), Review.listing_id)
        .limit(limit)
    ).all()
    by_id = {listing.id: listing for listing in session.exec(
        select(Listing).where(col(Listing.id).in_(rows))).all()}
    return listing_cards(session, [by_id[listing_id] for listing_id in rows])


def category_listings(session: Session, category_id: int, page: int,
                      per_page: int) -> tuple[list[ListingCard], int]:
    """One page of a category's published listings (newest first) and the total count."""
    base = _published().where(Listing.category_id == category_id)
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    listings = session.exec(base.order_by(col(Listing.published_at).desc(), col(Listing.id).desc())
                            .offset((page - 1) * per_page).limit(per_page)).all()
    return listing_cards(session, list(listings)), total


def category_counts(session: Session) -> list[tuple[Category, int]]:
    """Every category with its number of published listings, in display order."""
    counts = dict(session.exec(
        select(Listing.category_id, func.count()).where(Listing.status == ListingStatus.PUBLISHED)
        .group_by(Listing.category_id)).all())
    categories = session.exec(select(Category).order_by(Category.position, Category.name)).all()
    return [(category, counts.get(category.id, 0)) for category in categories]


def collections_with_cards(session: Session, per_collection: int = 8
                           ) -> list[tuple[Collection, list[ListingCard]]]:
    """Every collection (by position) with up to ``per_collection`` of its published
    listings as cards, in the editor's order, in six queries however many there are.

    Collections without a published listing are left out.
    """
    collections = session.exec(select(Collection).order_by(Collection.position, Collection.id)).all()
    if not collections:
        return []
    rows = session.exec(
        select(CollectionItem.collection_id, Listing)
        .join(Listing, Listing.id == CollectionItem.listing_id)
        .where(col(CollectionItem.collection_id).in_([c.id for c in collections]),
               Listing.status == ListingStatus.PUBLISHED)
        .order_by(CollectionItem.collection_id, CollectionItem.position, CollectionItem.id)
    ).all()
    listings_by_collection: dict[int, list[Listing]] = {}
    for collection_id, listing in rows:
        chosen = listings_by_collection.setdefault(collection_id, [])
        if len(chosen) < per_collection:
            chosen.append(listing)
    unique = {listing.id: listing for chosen in listings_by_collection.values() for listing in chosen}
    cards = {card.listing.id: card for card in listing_cards(session, list(unique.values()))}
    return [(collection, [cards[listing.id] for listing in listings_by_collection[collection.id]])
            for collection in collections if collection.id in listings_by_collection]


# What a card shows of a listing (the storefront's and the search page's card
# templates, listings.card_text.price): reading only these columns leaves out the
# description, the JSON and the date columns, which are most of a row's cost.
CARD_COLUMNS = (Listing.slug, Listing.name, Listing.tagline, Listing.status, Listing.partner_id,
                Listing.category_id, Listing.pricing_model, Listing.currency,
                Listing.monthly_price, Listing.unit_name, Listing.unit_price,
                Listing.included_units, Listing.trial_days, Listing.icon_filename,
                Listing.card_price, Listing.card_interval, Listing.plan_count)


class _CardListingRow(NamedTuple):
    id: int
    slug: str
    name: str
    tagline: str
    status: str
    partner_id: int
    category_id: int
    pricing_model: str
    currency: str
    monthly_price: int
    unit_name: str | None
    unit_price: int
    included_units: int
    trial_days: int
    icon_filename: str | None
    card_price: int | None
    card_interval: str | None
    plan_count: int


class CardListing(_CardListingRow, CardPrice):
    """A listing as its card shows it (``CARD_COLUMNS``), read as a plain row: a
    results page shows 24 of these and forgets them, so they are not ORM objects,
    whose construction and reference cycles cost more than the statement. Named
    tuples, made from the row's slice in C: frozen dataclasses set each field in turn,
    a fifth of the cards' time (docs/performance.md)."""

    __slots__ = ()


class CardPartner(NamedTuple):
    id: int
    name: str
    slug: str


class CardCategory(NamedTuple):
    id: int
    name: str
    slug: str


class CardBadge(NamedTuple):
    """A badge a card wears now: ``shown_badges`` needs only its kind."""

    kind: str


# A listing's published reviews, for the card's rating (read from the covering
# index on reviews (listing_id, status, rating)).
_PUBLISHED_REVIEWS = ((col(Review.listing_id) == Listing.id)
                      & (Review.status == ReviewStatus.PUBLISHED))
_CARD_LISTING_COLUMNS = [Listing.id, *CARD_COLUMNS]
_LISTING_WIDTH = len(_CARD_LISTING_COLUMNS)
# The kinds of badge a listing wears now, in one string (group_concat on SQLite,
# string_agg on PostgreSQL): kinds are words of letters and underscores.
_BADGE_KINDS_SEPARATOR = ","
_ACTIVE_BADGE_KINDS = (
    select(func.aggregate_strings(Badge.kind, _BADGE_KINDS_SEPARATOR))
    .where(col(Badge.listing_id) == Listing.id, BADGE_ACTIVE_NOW).scalar_subquery()
)
# Built once (statements are immutable; the ids and the time are bound at each call):
# the search page runs it on every request, and building it cost as much as running it.
# Columns in the order of CardListing, CardPartner and CardCategory, then the rating
# and the badges.
_PUBLISHED_CARDS = (
    select(*_CARD_LISTING_COLUMNS, Partner.id, Partner.name, Partner.slug,
           Category.id, Category.name, Category.slug,
           select(func.avg(Review.rating)).where(_PUBLISHED_REVIEWS).scalar_subquery(),
           select(func.count()).where(_PUBLISHED_REVIEWS).scalar_subquery(),
           _ACTIVE_BADGE_KINDS)
    .join(Partner, col(Partner.id) == Listing.partner_id)
    .join(Category, col(Category.id) == Listing.category_id)
    .where(col(Listing.id).in_(bindparam("ids", expanding=True)),
           Listing.status == ListingStatus.PUBLISHED)
)


def published_cards_in_order(session: Session, listing_ids: Iterable[int]) -> list[ListingCard]:
    """Cards for the listings of ``listing_ids`` that are still published, in the
    given order (a search backend's ranking), in one statement whatever their
    number: the listings with their partner, category, rating and badges.

    A search index lags the database a little: ids of listings that were
    delisted or deleted meanwhile are left out rather than shown. The cards hold
    plain rows (``CardListing``...), not objects the session tracks."""
    ids = list(dict.fromkeys(listing_ids))
    if not ids:
        return []
    width = _LISTING_WIDTH
    # The session's connection, not the session: a Core statement returning plain
    # rows, and the ORM's execution path around it cost as much as the SQL.
    rows = session.connection().execute(_PUBLISHED_CARDS, {"ids": ids, "now": utcnow()})
    found = {}
    for row in rows.all():
        average, reviews, kinds = row[width + 6:]
        found[row[0]] = ListingCard(
            CardListing._make(row[:width]), CardPartner._make(row[width:width + 3]),
            CardCategory._make(row[width + 3:width + 6]),
            # The rating as rating_summaries() gives it: the average to one decimal.
            (round(float(average), 1), reviews) if reviews else None,
            [CardBadge(kind) for kind in kinds.split(_BADGE_KINDS_SEPARATOR)] if kinds else [])
    return [found[listing_id] for listing_id in ids if listing_id in found]
