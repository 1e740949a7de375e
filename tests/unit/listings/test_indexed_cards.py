"""A card from the search index (listings.indexed_cards) is the card the database
gives, tile for tile; what the index may not know yet (a delisting, a badge that
expired, a category renamed) is taken from the database or the clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.db import utcnow
from listings import indexed_cards
from listings.browsing import published_cards_in_order
from listings.card_tiles import card_tiles
from listings.documents import search_documents
from listings.models import Category, Listing, ListingStatus, PricingModel
from listings.queries import category_names_in_order
from listings.ranking import TOP_RATED_MIN_REVIEWS
from tests import factories

TILE_FIELDS = ("slug", "url", "icon_url", "name", "tagline", "snippet", "partner_name",
               "category_name", "category_url", "price", "stars", "badges")


def tiles(app, cards) -> list[dict]:
    with app.test_request_context():
        return [{name: getattr(tile, name) for name in TILE_FIELDS} for tile in card_tiles(cards)]


def from_index(db, listings: list[Listing]):
    kept = [(document["id"], document["card"])
            for document in search_documents(db, [listing.id for listing in listings])]
    return indexed_cards.cards_from_index(db, kept, category_names_in_order(db))


@pytest.fixture
def catalog(db):
    tools = factories.make_category(db, name="Sales tools")
    free = factories.make_listing(db, category=tools, name="Plain & Free",
                                  tagline="Nothing to pay <ever>")
    monthly = factories.make_listing(db, category=tools, name="Monthly Mover",
                                     pricing_model=PricingModel.FLAT_MONTHLY, monthly_price=1900,
                                     trial_days=14, icon_filename="monthly.png")
    plans = factories.make_listing(db, category=tools, name="Many Plans",
                                   pricing_model=PricingModel.FLAT_MONTHLY, monthly_price=900,
                                   card_price=9000, card_interval="year", plan_count=3)
    usage = factories.make_listing(db, name="Metered Mail", pricing_model=PricingModel.USAGE,
                                   unit_name="email", unit_price=1, included_units=1000,
                                   currency="EUR")
    for rating in (5, 4, 4):
        factories.make_review(db, monthly, rating=rating)
    for _ in range(TOP_RATED_MIN_REVIEWS):
        factories.make_review(db, plans, rating=5)  # earns "Top rated"
    factories.make_review(db, usage, rating=2, status="pending")  # not counted
    factories.make_badge(db, free, kind="staff_pick")
    factories.make_badge(db, monthly, kind="staff_pick", expires_at=utcnow() + timedelta(days=3))
    return [free, monthly, plans, usage]


def test_a_card_from_the_index_is_the_card_from_the_database(app, db, catalog):
    from_database = published_cards_in_order(db, [listing.id for listing in catalog])
    assert tiles(app, from_index(db, catalog)) == tiles(app, from_database)
    shown = {tile["slug"]: tile for tile in tiles(app, from_index(db, catalog))}
    assert [label for _, label in shown[catalog[2].slug]["badges"]] == ["Top rated"]
    assert "From €" not in shown[catalog[3].slug]["price"] and "€" in shown[catalog[3].slug]["price"]


def test_a_listing_delisted_since_it_was_indexed_is_left_out(app, db, catalog):
    kept = [(document["id"], document["card"])
            for document in search_documents(db, [listing.id for listing in catalog])]
    catalog[1].status = ListingStatus.DELISTED
    db.add(catalog[1])
    db.commit()
    cards = indexed_cards.cards_from_index(db, kept, category_names_in_order(db))
    assert [card.listing.id for card in cards] == [catalog[0].id, catalog[2].id, catalog[3].id]


def test_a_badge_that_expired_since_it_was_indexed_is_not_shown(app, db, catalog, monkeypatch):
    later = utcnow() + timedelta(days=4)
    monkeypatch.setattr(indexed_cards, "utcnow", lambda: later)
    shown = {tile["slug"]: tile for tile in tiles(app, from_index(db, catalog))}
    assert shown[catalog[1].slug]["badges"] == []
    assert [label for _, label in shown[catalog[0].slug]["badges"]] == ["Staff pick"]


def test_the_category_name_is_the_one_the_page_knows_now(app, db, catalog):
    kept = [(document["id"], document["card"]) for document in search_documents(db, [catalog[0].id])]
    slug = db.get(Category, catalog[0].category_id).slug
    names = dict(category_names_in_order(db))
    names[slug] = "Renamed Since"
    [card] = indexed_cards.cards_from_index(db, kept, names)
    assert card.category.name == "Renamed Since"
    del names[slug]  # a category gone: its cards with it
    assert indexed_cards.cards_from_index(db, kept, names) == []
