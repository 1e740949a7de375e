"""An app tile, ready to write (listings.card_tiles): its links, texts, price, rating
and badges worked out once per page in Python, so the template only writes them.
The same tile on the catalog pages and the search results."""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup

from listings.browsing import published_cards_in_order
from listings.card_text import price, stars
from listings.card_tiles import card_tiles, listing_icon_url
from tests import factories


def _tile_html(page: str, slug: str) -> str:
    tile = page[page.index(f'data-slug="{slug}"'):]
    return tile[:tile.index("</li>")]


def test_a_tile_carries_the_cards_links_and_texts_ready_to_write(app, db):
    category = factories.make_category(db, name="Bird watching")
    partner = factories.make_partner(db, name="Heron Works")
    listing = factories.make_listing(db, name="Heron Rated", tagline="Counts herons.",
                                     partner=partner, category=category, trial_days=14)
    for rating in (5, 4, 4):
        factories.make_review(db, listing, rating=rating)
    factories.make_badge(db, listing, kind="staff_pick")

    with app.test_request_context("/"):
        [card] = published_cards_in_order(db, [listing.id])
        [tile] = card_tiles([card])

        assert tile.slug == listing.slug
        assert tile.url == url_for("storefront.listing", slug=listing.slug)
        assert tile.icon_url == listing_icon_url(card)
        assert tile.name == "Heron Rated" and tile.tagline == "Counts herons."
        assert tile.snippet is None
        assert (tile.partner_name, tile.category_name) == ("Heron Works", "Bird watching")
        assert tile.category_url == url_for("storefront.category", slug=category.slug)
        assert tile.price == price(card.listing) and "14-day free trial" in tile.price
        assert tile.stars == stars(4.3, 3)
        assert tile.badges == [(url_for("badges.badge", slug="staff-pick"), "Staff pick")]


def test_a_checked_highlight_replaces_the_text_and_plain_text_stays_text(app, db):
    """Highlights arrive as Markup (search.views checks them first) and are written
    as they are; a name of the partner's own is text, escaped when written."""
    plain = factories.make_listing(db, name="<b>Loud</b> & Co", tagline="Tags <i>all</i>")
    marked = factories.make_listing(db, name="Heron Marked", tagline="Finds herons.")

    with app.test_request_context("/"):
        cards = published_cards_in_order(db, [plain.id, marked.id])
        shown = {marked.id: {"name": Markup("<mark>Heron</mark> Marked"),
                             "description": Markup("… spots a <mark>heron</mark> …")}}
        plain_tile, marked_tile = card_tiles(cards, shown)

    assert not isinstance(plain_tile.name, Markup) and plain_tile.name == "<b>Loud</b> & Co"
    assert marked_tile.name == Markup("<mark>Heron</mark> Marked")
    assert marked_tile.tagline == "Finds herons."
    assert marked_tile.snippet == Markup("… spots a <mark>heron</mark> …")


def test_search_results_and_category_pages_write_the_same_tile(client, db):
    category = factories.make_category(db, name="Bird watching")
    partner = factories.make_partner(db, name="Heron Works")
    listing = factories.make_listing(db, name="Egret Lookout", tagline="Spots egrets & more.",
                                     partner=partner, category=category)
    factories.make_review(db, listing, rating=5)
    factories.make_badge(db, listing, kind="staff_pick")

    category_page = client.get(f"/categories/{category.slug}").get_data(as_text=True)
    # Browsing (no words): nothing is highlighted, so the tile is the catalog's own.
    search_page = client.get(f"/search?category={category.slug}").get_data(as_text=True)

    catalog_tile = _tile_html(category_page, listing.slug)
    search_tile = _tile_html(search_page, listing.slug)
    assert search_tile == catalog_tile
    assert "Spots egrets &amp; more." in catalog_tile
    assert 'href="/badges/staff-pick"' in catalog_tile
    assert search_page.count('class="card listing-card search-result"') == 1
    assert category_page.count('class="card listing-card"') == 1
