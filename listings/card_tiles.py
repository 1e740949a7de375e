"""An app tile as the grids write it (templates/_card_tiles.html): a card's links,
texts, price, rating and badges, worked out once per page in Python, so the template
only writes them; and the address of an app's icon (``listing_icon_url``, a Jinja
global for every other template too).

Why not the card itself in the template: a results or category page writes 24 tiles,
and each link, price or rating the template asked for was a call through Jinja's
runtime, each attribute a lookup through its ``getattr``; with two macros a tile, that
was 0.7 of a results page's 1.2 ms of rendering (docs/performance.md). Everything here
is a plain value; the template escapes the text as usual. Only a search backend's
highlights are ``Markup``, checked by ``search.views`` before they arrive."""

from __future__ import annotations

from collections.abc import Mapping

from flask import url_for
from markupsafe import Markup

from core.routing import repeated_url_for, slug_urls
from listings.browsing import ListingCard
from listings.card_text import price, stars


class CardTile:
    """What a tile writes, ready: links, texts (``name``, ``tagline`` and ``snippet``
    may be a search's checked highlights), the price and rating as HTML, and the
    badges as (link, label) pairs."""

    __slots__ = ("slug", "url", "icon_url", "name", "tagline", "snippet", "partner_name",
                 "category_name", "category_url", "price", "stars", "badges")

    def __init__(self, card: ListingCard, highlights: Mapping[str, Markup], links: _TileLinks):
        listing = card.listing
        self.slug = listing.slug
        self.url = links.listing(listing.slug)
        self.icon_url = listing_icon_url(listing)
        self.name = highlights.get("name") or listing.name
        self.tagline = highlights.get("tagline") or listing.tagline
        self.snippet = highlights.get("description")
        self.partner_name = card.partner.name
        self.category_name = card.category.name
        self.category_url = links.category(card.category.slug)
        self.price = price(listing)
        self.stars = stars(card.rating_average, card.rating_count)
        self.badges = [(links.badge(badge.slug), badge.label) for badge in card.badges]


class _TileLinks:
    """The links every tile has, each endpoint's URL looked up once per grid."""

    def __init__(self):
        self.listing = slug_urls("storefront.listing")
        self.category = slug_urls("storefront.category")
        self.badge = slug_urls("badges.badge")


_NOTHING_HIGHLIGHTED: Mapping[str, Markup] = {}


def card_tiles(cards: list[ListingCard],
               highlights: Mapping[int, Mapping[str, Markup]] | None = None) -> list[CardTile]:
    """The tiles of ``cards``, in order; ``highlights``: {listing id: {"name" |
    "tagline" | "description": checked snippet}} from a search, shown in place of the
    name and tagline and as the tile's snippet. Needs a request (it builds links)."""
    if not cards:
        return []
    highlights = highlights or {}
    links = _TileLinks()
    return [CardTile(card, highlights.get(card.listing.id, _NOTHING_HIGHLIGHTED), links)
            for card in cards]


def listing_icon_url(item, external: bool = False) -> str:
    """The address of a listing's icon (a ``Listing`` or a ``ListingCard``): its
    uploaded file, else its generated initials icon. A Jinja global, so every
    template (tiles, the listing page, Open Graph tags) asks the same way;
    ``external=True`` for an absolute address."""
    listing = getattr(item, "listing", item)
    if listing.icon_filename:
        return url_for("storefront.icon", filename=listing.icon_filename, _external=external)
    if external:
        return url_for("storefront.generated_icon", slug=listing.slug, _external=True)
    return repeated_url_for("storefront.generated_icon", listing.slug)
