"""A listing's card as the search index keeps it, so that a results page from
OpenSearch writes its tiles from the hits instead of reading them from the database.

Reading 24 cards cost a results page two statements (the listings with their
partner, category and rating; their badges) and their rows: about a fifth of the
page's own time at 100,000 listings (docs/performance.md). The index already holds
what the filters use (price model, rating, badges), so it keeps the card with them:
one JSON value per document (``card_document``), fetched from doc values with the
hits (``search.queries.search_body``). What a card from the index shows is what the
filters beside it went by.

What stays with the database:

- whether each listing is still **published**: a listing delisted a moment ago may
  still be in the index until its outbox row is applied, and must never show
  (``cards_from_index`` asks, in one small statement);
- the **category's name**, from the names the page already has (kept per catalog
  version), so a renamed category shows its new name at once;
- whether a **badge** is still on: an editor's badge can expire by the clock, with no
  change to index, so the card keeps each badge's expiry and it is compared with now.

A card the index does not have (an index built before it kept them, or another
backend) is read from the database as before (``search.views.result_tiles``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from core.db import as_utc, utcnow
from listings.browsing import CardCategory, CardListing, CardPartner, ListingCard
from listings.models import Badge, Listing, ListingStatus

# What a card keeps of its listing: CardListing's fields but the id (the document's
# own) and the status (asked of the database).
LISTING_FIELDS = tuple(f.name for f in fields(CardListing) if f.name not in ("id", "status"))

_PUBLISHED_IDS = select(Listing.id).where(col(Listing.id).in_(bindparam("ids", expanding=True)),
                                          Listing.status == ListingStatus.PUBLISHED)


@dataclass(frozen=True, slots=True)
class _KeptBadge:
    kind: str


def card_document(row, rating: tuple[float, int] | None, badges: Iterable[Badge]) -> str:
    """The card of a published listing as the index keeps it (JSON): ``row`` has the
    card's columns (``LISTING_FIELDS``) and ``partner``, ``partner_slug``,
    ``category_slug``; ``rating`` is (average, count) of its published reviews;
    ``badges`` its editors' badges on at the time, each kept with its expiry."""
    card = {name: getattr(row, name) for name in LISTING_FIELDS}
    card["partner"] = [row.partner_id, row.partner, row.partner_slug]
    card["category_slug"] = row.category_slug
    card["rating"] = list(rating) if rating else None
    card["badges"] = [[str(badge.kind), _iso(badge.expires_at)] for badge in badges
                      if badge.revoked_at is None]
    return json.dumps(card, separators=(",", ":"), ensure_ascii=False)


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment else None


def cards_from_index(session: Session, kept: Sequence[tuple[int, str]],
                     category_names: Mapping[str, str]) -> list[ListingCard]:
    """The cards of ``kept`` ((listing id, its ``card_document``), in the search's
    order) whose listing is still published, in that order; ``category_names``:
    {slug: name} of every category (a card of a category gone since is left out)."""
    if not kept:
        return []
    published = set(session.connection().execute(
        _PUBLISHED_IDS, {"ids": [listing_id for listing_id, _ in kept]}).scalars())
    now = utcnow()
    cards = []
    for listing_id, document in kept:
        if listing_id not in published:
            continue
        card = json.loads(document)
        slug = card["category_slug"]
        if slug not in category_names:
            continue
        listing = CardListing(id=listing_id, status=ListingStatus.PUBLISHED,
                              **{name: card[name] for name in LISTING_FIELDS})
        partner = CardPartner(*card["partner"])
        category = CardCategory(listing.category_id, category_names[slug], slug)
        rating = tuple(card["rating"]) if card["rating"] else None
        badges = [_KeptBadge(kind) for kind, expires in card["badges"]
                  if expires is None or datetime.fromisoformat(expires) > now]
        cards.append(ListingCard(listing, partner, category, rating, badges))
    return cards
