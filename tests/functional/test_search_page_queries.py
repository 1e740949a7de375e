"""How much database work a search results page does around the search itself.

The page's time above the search backend's is the web layer's (the search issue's
"page p50 at most 5 ms above the raw query" aim), and most of it is reading the
cards: so the statements are counted, leaving out the search backend's own (the
embedded index may live in the same database)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests import factories


@contextmanager
def statements_around_search(app, monkeypatch):
    """The SQL statements a request runs in the block, outside the search backend."""
    statements: list[str] = []
    searching = []
    service = app.extensions["bazaar.search"]
    real_search = service.search

    def search(query):
        searching.append(True)
        try:
            return real_search(query)
        finally:
            searching.pop()

    def before(conn, cursor, statement, *args):
        if not searching:
            statements.append(statement)

    monkeypatch.setattr(service, "search", search)
    engine = app.extensions["bazaar.engine"]
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def add_apps(db, count: int) -> None:
    """``count`` published apps named "Heron ...", each with its own partner and
    category, a review and a badge (everything a card shows)."""
    for n in range(count):
        listing = factories.make_listing(db, name=f"Heron Sync {n}",
                                         tagline="Keeps your herons in sync")
        factories.make_review(db, listing, rating=4)
        factories.make_badge(db, listing)


def test_results_page_statements_stay_fixed_whatever_the_number_of_hits(app, client, db,
                                                                          monkeypatch):
    add_apps(db, 1)
    client.get("/search?q=warm")  # what a first request does once; the page is not kept
    with statements_around_search(app, monkeypatch) as one_hit:
        page = client.get("/search?q=heron").get_data(as_text=True)
    assert page.count('class="card listing-card search-result"') == 1

    add_apps(db, 11)
    client.get("/search?q=warm")  # the new catalog version's first request, as above
    with statements_around_search(app, monkeypatch) as twelve_hits:
        page = client.get("/search?q=heron").get_data(as_text=True)
    assert page.count('class="card listing-card search-result"') == 12
    assert len(twelve_hits) == len(one_hit), "\n".join(twelve_hits)


@pytest.mark.parametrize("url", ["/search?q=heron", "/search", "/search?q=heron&sort=rating"])
def test_results_page_reads_categories_and_cards_in_four_statements(app, client, db,
                                                                    monkeypatch, url):
    """The categories (filters and facet labels), the catalog's version (answers
    are kept by it), then the cards: the listings with their partner, category,
    rating and badges in one statement. (It took six: listings, partners,
    categories and ratings one by one.)"""
    add_apps(db, 5)
    client.get("/search?q=warm")  # what a first request does once; a rendered page counts
    with statements_around_search(app, monkeypatch) as statements:
        page = client.get(url).get_data(as_text=True)
    assert page.count('class="card listing-card search-result"') == 5
    assert len(statements) <= 4, "\n\n".join(statements)


def test_result_cards_are_read_with_their_badges_in_one_statement(app, client, db, monkeypatch):
    """After the catalog's version, a results page reads its cards in one statement:
    the listings with their partner, category, rating and the kinds of badge they wear
    now (a second statement for the badges cost a fifth of the cards' time at 100,000
    listings, docs/performance.md). Expired and revoked badges stay off the cards."""
    from datetime import timedelta

    from core.db import utcnow

    add_apps(db, 3)
    expired = factories.make_listing(db, name="Heron Expired", tagline="Keeps herons")
    factories.make_badge(db, expired, kind="staff_pick", expires_at=utcnow() - timedelta(days=1))
    revoked = factories.make_listing(db, name="Heron Revoked", tagline="Keeps herons")
    factories.make_badge(db, revoked, kind="staff_pick").revoked_at = utcnow()
    db.commit()
    client.get("/search?q=warm")  # what a first request does once; a rendered page counts
    with statements_around_search(app, monkeypatch) as statements:
        page = client.get("/search?q=heron").get_data(as_text=True)
    assert page.count('class="card listing-card search-result"') == 5
    assert len(statements) == 2 and "catalog_version" in statements[0], "\n\n".join(statements)
    for listing in (expired, revoked):
        card = page[page.index(f'data-slug="{listing.slug}"'):]
        assert "Staff pick" not in card[:card.index("</li>")]
    assert page.count('class="badge"') == 3


def test_result_cards_show_rating_partner_category_and_badge(client, db):
    """What the one statement reads is what the card shows: the average of the
    published reviews only, to one decimal, with their count."""
    category = factories.make_category(db, name="Bird watching")
    partner = factories.make_partner(db, name="Heron Works")
    rated = factories.make_listing(db, name="Heron Rated", partner=partner, category=category)
    for rating in (5, 4, 4):
        factories.make_review(db, rated, rating=rating)
    factories.make_review(db, rated, rating=1, status="pending")
    factories.make_badge(db, rated, kind="staff_pick")
    factories.make_listing(db, name="Heron Unrated", partner=partner, category=category)

    page = client.get("/search?q=heron").get_data(as_text=True)

    rated_card = page[page.index('data-slug="' + rated.slug):]
    rated_card = rated_card[:rated_card.index("</li>")]
    assert "by Heron Works" in rated_card and "Bird watching" in rated_card
    assert 'aria-label="Rated 4.3 out of 5 from 3 reviews"' in rated_card
    assert "Staff pick" in rated_card
    assert page.count("No reviews yet") == 1


def test_suggestions_read_only_the_catalog_version_whatever_the_matches(app, client, db,
                                                                       monkeypatch):
    """Autocomplete answers from the search backend alone (names, slugs and
    categories are in the index): its only statement is the catalog's version,
    which its kept answers are keyed by."""
    statements: list[str] = []
    service = app.extensions["bazaar.search"]
    real_suggest = service.suggest
    searching = []

    def suggest(*args, **kwargs):
        searching.append(True)
        try:
            return real_suggest(*args, **kwargs)
        finally:
            searching.pop()

    def before(conn, cursor, statement, *args):
        if not searching:
            statements.append(statement)

    add_apps(db, 1)
    client.get("/search/suggest?q=her")
    engine = app.extensions["bazaar.engine"]
    monkeypatch.setattr(service, "suggest", suggest)
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert len(client.get("/search/suggest?q=her").get_json()["suggestions"]) == 1
        add_apps(db, 7)
        statements.clear()
        assert len(client.get("/search/suggest?q=her").get_json()["suggestions"]) == 8
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert len(statements) == 1 and "catalog_version" in statements[0], statements


def test_description_snippets_with_their_blocks_marked_cost_no_statement(
        app, client, db, monkeypatch):
    # A snippet's " · " between Markdown blocks comes with the search document's text
    # (core.markdown.markdown_to_text, stored with the listing). It was added when the
    # page was shown, from each listing's Markdown read in a fifth statement and parsed
    # once per card: a third of a results page's time at 100,000 listings (bench/pages).
    for n in range(12):
        factories.make_listing(db, name=f"Ledger Tool {n}", tagline="Books kept",
                               description="## What you get\n\n- Egret reminders\n"
                                           "- Overdue invoices\n\nAll in one place.")
    client.get("/search?q=warm")  # what a first request does once; a rendered page counts
    with statements_around_search(app, monkeypatch) as statements:
        page = client.get("/search?q=egret").get_data(as_text=True)
    assert page.count('class="card listing-card search-result"') == 12
    assert "What you get · <mark>Egret</mark> reminders · Overdue invoices" in page
    assert len(statements) <= 4, "\n\n".join(statements)

# --- the kept page -----------------------------------------------------------------------


def test_an_anonymous_repeat_search_is_served_from_the_kept_page(app, client, db, monkeypatch):
    """A results page is the same for every anonymous visitor until the catalog or the
    synonym list changes, like the catalog pages: a repeat reads only the catalog's
    version (it rendered the page again around a kept answer: four statements and most
    of the CPU of a search in bench/page-costs)."""
    add_apps(db, 3)
    first = client.get("/search?q=heron&sort=rating")
    with statements_around_search(app, monkeypatch) as statements:
        again = client.get("/search?q=heron&sort=rating")
    assert again.status_code == 200
    assert again.get_data() == first.get_data()
    assert len(statements) == 1 and "catalog_version" in statements[0], statements
    assert again.headers["Cache-Control"] == "public, no-cache"
    assert "Cookie" in again.headers["Vary"]

    add_apps(db, 1)  # a catalog change shows at once
    assert client.get("/search?q=heron&sort=rating").get_data(as_text=True).count(
        'class="card listing-card search-result"') == 4


def test_a_search_answered_in_reduced_mode_is_not_kept(app, client, db, monkeypatch):
    """The embedded fallback's answer (OpenSearch down) says so on the page; once
    OpenSearch is back, the next visitor must get its answer, not a kept fallback."""
    import search.views as views
    from search.services import SearchAnswer

    add_apps(db, 2)
    real = views.kept_search
    degraded = [True]

    def kept_search(*args, **kwargs):
        answer = real(*args, **kwargs)
        return SearchAnswer(answer.result, answer.backend, degraded[0])

    monkeypatch.setattr(views, "kept_search", kept_search)
    assert "reduced mode" in client.get("/search?q=heron").get_data(as_text=True)
    degraded[0] = False
    assert "reduced mode" not in client.get("/search?q=heron").get_data(as_text=True)


def test_a_signed_in_visitors_search_is_their_own(client, db, login, admin):
    add_apps(db, 1)
    client.get("/search?q=heron")
    login(admin)
    response = client.get("/search?q=heron")
    assert response.headers["Cache-Control"] == "private, no-cache"


# --- what a new search reads ----------------------------------------------------------------


def test_a_new_search_reads_the_categories_once_per_catalog_version(app, client, db,
                                                                   monkeypatch):
    """The category names (filter labels, known ``category`` values) change only with
    the catalog: a search nobody asked before reads the catalog's version and its
    cards, not the categories again (a quarter of a millisecond of every new search
    at 100,000 listings)."""
    add_apps(db, 3)
    client.get("/search?q=warm")
    with statements_around_search(app, monkeypatch) as statements:
        page = client.get("/search?q=heron&category=nope").get_data(as_text=True)
    assert page.count('class="card listing-card search-result"') == 3
    assert "category “nope”" in page  # still checked against the categories
    assert not [s for s in statements if "FROM categories ORDER BY" in s], statements
    assert len(statements) == 2, "\n\n".join(statements)

    category = factories.make_category(db, name="Wading birds")  # a new version
    page = client.get(f"/search?q=heron&category={category.slug}").get_data(as_text=True)
    assert "category “" not in page and "Wading birds" in page


def test_cards_for_search_hits_are_plain_rows_not_tracked_objects(app, db):
    """A results page shows its cards and forgets them: read as plain rows, they cost
    the session nothing to track (the ORM's objects for 24 cards cost half a
    millisecond to build, and their reference cycles the garbage collector's time)."""
    from sqlmodel import Session

    from listings.browsing import published_cards_in_order

    category = factories.make_category(db, name="Bird watching")
    partner = factories.make_partner(db, name="Heron Works")
    paid = factories.make_listing(db, name="Heron Paid", partner=partner, category=category,
                                  pricing_model="flat_monthly", monthly_price=900,
                                  trial_days=14)
    factories.make_review(db, paid, rating=5)
    factories.make_badge(db, paid, kind="staff_pick")
    free = factories.make_listing(db, name="Heron Free", partner=partner, category=category)
    with Session(app.extensions["bazaar.engine"]) as session:
        cards = published_cards_in_order(session, [free.id, paid.id, 10**9])
        assert len(session.identity_map) == 0
    assert [card.listing.slug for card in cards] == [free.slug, paid.slug]
    shown = cards[1]
    assert (shown.listing.name, shown.listing.shown_price, shown.listing.shown_interval,
            shown.listing.trial_days) == ("Heron Paid", 900, "month", 14)
    assert (shown.partner.name, shown.category.slug, shown.category.name) == (
        "Heron Works", category.slug, "Bird watching")
    assert (shown.rating_average, shown.rating_count) == (5.0, 1)
    assert [badge.label for badge in shown.badges] == ["Staff pick"]
