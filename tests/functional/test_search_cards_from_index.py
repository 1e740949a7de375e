"""On OpenSearch, a results page writes its cards from the hits (listings.indexed_cards):
the same page the database's cards make, without reading them; only whether each
listing is still published is asked of the database."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from sqlalchemy import event

from listings.models import ListingStatus, PricingModel
from search import sync
from search.interfaces import SearchHit
from tests import factories
from tests.functional.test_search_page import result_slugs, search


@pytest.fixture
def app_overrides(opensearch_url):
    # Nothing kept: every request renders its page, as bench/search measures it.
    return {"OPENSEARCH_URL": opensearch_url, "CATALOG_CACHE_SECONDS": 0,
            "OPENSEARCH_INDEX": f"test-cards-{uuid.uuid4().hex[:10]}"}


@pytest.fixture(autouse=True)
def drop_index(app, opensearch_url):
    yield
    requests.delete(f"{opensearch_url}/{app.config['OPENSEARCH_INDEX']}*", timeout=10)


@pytest.fixture
def herons(app, db):
    category = factories.make_category(db, name="Bird tools")
    apps = [
        factories.make_listing(db, category=category, name="Heron Sync",
                               tagline="Keeps your herons in sync"),
        factories.make_listing(db, category=category, name="Heron Ledger",
                               tagline="Heron accounts", pricing_model=PricingModel.FLAT_MONTHLY,
                               monthly_price=1500, trial_days=7),
        factories.make_listing(db, name="Heron Meter", tagline="Counts herons",
                               pricing_model=PricingModel.USAGE, unit_name="heron",
                               unit_price=2, included_units=100),
    ]
    for rating in (5, 3):
        factories.make_review(db, apps[1], rating=rating)
    factories.make_badge(db, apps[0], kind="staff_pick")
    app.extensions["bazaar.search"].primary.refresh()
    return apps


def statements_of(app, client, path: str) -> tuple[str, list[str]]:
    statements: list[str] = []
    listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    engine = app.extensions["bazaar.engine"]
    event.listen(engine, "before_cursor_execute", listener)
    try:
        page = client.get(path).get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return page, statements


def test_the_results_page_reads_no_card_from_the_database(app, client, db, herons):
    client.get("/search?q=warm")  # what a first request does once
    page, statements = statements_of(app, client, "/search?q=heron")
    assert "reduced mode" not in page  # OpenSearch answered
    assert sorted(result_slugs(page)) == sorted(listing.slug for listing in herons)
    assert not [s for s in statements if re.search(r"\b(reviews|badges|partners)\b", s)]
    [published] = [s for s in statements if re.search(r"\bFROM listings\b", s)]
    assert published.startswith("SELECT listings.id \nFROM listings")


def test_the_page_from_the_index_is_the_page_from_the_database(app, client, db, herons,
                                                                monkeypatch):
    from_index = search(client, q="heron")
    service = app.extensions["bazaar.search"]
    real_search = service.search

    def without_cards(query):
        answer = real_search(query)
        answer.result.hits = [SearchHit(hit.id, hit.score, hit.highlights)
                              for hit in answer.result.hits]
        return answer

    monkeypatch.setattr(service, "search", without_cards)  # as from an index made before
    from_database = search(client, q="heron")
    assert "$15.00 / month" in from_index and "Staff pick" in from_index
    assert from_index == from_database


def test_an_app_delisted_but_not_yet_out_of_the_index_is_not_shown(app, client, db, herons):
    herons[0].status = ListingStatus.DELISTED
    db.add(herons[0])
    db.flush()
    db.info.pop(sync.DIRTY_KEY)  # its outbox row waits for the background sync
    db.commit()
    page = search(client, q="heron")
    assert herons[0].slug not in result_slugs(page)
    assert sorted(result_slugs(page)) == sorted(listing.slug for listing in herons[1:])
