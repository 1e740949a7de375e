"""The customer's search: the results page with its filters, facet counts,
sorting and pages; autocomplete; the browse pages that read through search;
and how all of them behave when search is degraded or down.

Listings made by the factories reach the index by themselves: every commit
applies its search outbox rows (see the ``db`` fixture).
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from accounts.models import Role
from core.db import utcnow
from listings.models import ListingStatus
from listings.ranking import MIN_REVIEWS_ON_SHELF
from listings.services import approve_listing
from search.interfaces import SearchUnavailable
from tests import factories

WRITE_SCOPES = [{"scope": "contacts:write", "justification": "To save the contacts it finds."}]


def page_of(response) -> str:
    return response.get_data(as_text=True)


def result_slugs(page: str) -> list[str]:
    """The apps on a search results page, in the order shown."""
    return re.findall(r'<li class="card listing-card search-result"[^>]*>\s*<h3>'
                      r'<a href="/apps/([^"]+)"', page)


def card_slugs(page: str) -> list[str]:
    """The apps in the ordinary listing cards of a browse page, in order."""
    return re.findall(r'<li class="card listing-card"[^>]*>\s*<h3><a href="/apps/([^"]+)"', page)


def facet_count(page: str, param: str, value: str) -> int | None:
    """The count shown beside one filter choice, or None when it isn't offered."""
    match = re.search(rf'name="{param}" value="{re.escape(value)}"(?:(?!</li>).)*?'
                      r'class="facet-count">\((\d+)', page, re.S)
    return int(match.group(1)) if match else None


def is_checked(page: str, param: str, value: str) -> bool:
    return re.search(rf'name="{param}" value="{re.escape(value)}" checked', page) is not None


def search(client, url: str = "", **params):
    """The search page for ``url`` (a path, or a query string like "?q=x") and/or
    ``params``; it must answer 200."""
    path = url if url.startswith("/") else "/search" + url
    response = client.get(path, query_string=params or None)
    assert response.status_code == 200, page_of(response)[:500]
    return page_of(response)


@pytest.fixture
def catalog(db):
    """Two apps that differ in every filter, and a draft nobody may find."""
    crm = factories.make_category(db, name="CRM")
    helpdesk = factories.make_category(db, name="Helpdesk")
    free = factories.make_listing(db, category=crm, name="Lark Contacts",
                                  tagline="Tidy address books", data_residency=["eu"])
    factories.make_review(db, free, rating=5)
    factories.make_badge(db, free, kind="staff_pick")
    paid = factories.make_listing(db, category=helpdesk, name="Lark Tickets",
                                  tagline="Answer customers faster", pricing_model="flat_monthly",
                                  monthly_price=900, trial_days=14, data_residency=["us"],
                                  scopes=WRITE_SCOPES)
    factories.make_review(db, paid, rating=2)
    factories.make_listing(db, category=crm, name="Lark Secret", status=ListingStatus.DRAFT)
    return {"free": free, "paid": paid, "crm": crm, "helpdesk": helpdesk}


# --- finding --------------------------------------------------------------------------


def test_a_new_listing_is_found_by_its_words(client, db):
    listing = factories.make_listing(db, name="Quokka Invoicing", tagline="Send invoices on time")
    factories.make_listing(db, name="Unrelated Tool")
    page = search(client, q="invoice")
    assert result_slugs(page) == [listing.slug]
    assert "1 app" in page
    assert "Send <mark>invoices</mark> on time" in page  # the backend's highlight, as HTML


def test_a_misspelling_still_leads_to_the_app(client, db):
    listing = factories.make_listing(db, name="Chatterbox", tagline="Team chat")
    page = search(client, q="chaterbox")
    assert result_slugs(page) == [listing.slug]


def test_a_misspelt_topic_shows_the_corrected_results_and_a_way_back(client, db):
    planning = factories.make_category(db, name="Planning")
    listing = factories.make_listing(db, category=planning, name="Tempo", tagline="Team planning",
                                     description="Two-way calendar sync with every provider.")
    factories.make_listing(db, name="Ledger", tagline="Bookkeeping")
    page = search(client, q="calender sync", category=planning.slug)
    assert result_slugs(page) == [listing.slug]
    showing = re.search(r'Showing results for\s*<a href="([^"]+)"><strong>calendar sync</strong>'
                        r'</a>.\s*Search instead for <a href="([^"]+)" class="search-instead">'
                        r'calender sync</a>', page)
    assert showing, page
    corrected, exact = (unescape(url) for url in showing.groups())
    assert "q=calendar+sync" in corrected and f"category={planning.slug}" in corrected
    # "Search instead for": the words as typed, filters kept, and the way back offered.
    page = search(client, exact)
    assert "Showing results for" not in page
    assert re.search(r'Did you mean <a href="[^"]+">calendar sync</a>', page), page
    assert 'name="exact"' not in page  # a new search from this page is corrected again


def test_a_word_no_app_has_is_named_above_the_apps_that_match_the_rest(client, db):
    # No listing says "password": the page shows the apps with "manager" and says why
    # none of them is a password manager, rather than leave the reader guessing.
    listing = factories.make_listing(db, name="One on One", tagline="Notes for every manager")
    factories.make_listing(db, name="Ledger", tagline="Bookkeeping")
    page = search(client, q="password manager")
    assert result_slugs(page) == [listing.slug]
    assert re.search(r"No app mentions\s*<strong>password</strong>:\s*these match the rest",
                     page), page
    assert "No app mentions" not in search(client, q="manager notes")
    assert "No app mentions" not in search(client, q="password")  # nothing shown: no apps


def test_exact_with_a_bad_value_is_ignored_with_a_notice(client, db):
    factories.make_listing(db, name="Tempo", tagline="Calendar sync")
    page = search(client, q="calender", exact="maybe")
    assert "exact words" in page and "Showing results for" in page


def test_empty_query_browses_every_app_newest_first(client, db):
    now = utcnow()
    older = factories.make_listing(db, name="Old Hand", published_at=now - timedelta(days=9))
    newer = factories.make_listing(db, name="New Kid", published_at=now - timedelta(days=1))
    factories.make_listing(db, name="Not Yet", status=ListingStatus.DRAFT)
    page = search(client)
    assert "All apps" in page and "2 apps" in page
    assert result_slugs(page) == [newer.slug, older.slug]
    assert facet_count(page, "pricing", "free") == 2  # the filters are there too


def test_the_draft_is_never_found(client, catalog):
    assert "Lark Secret" not in search(client, q="lark")


# --- filters and facets ---------------------------------------------------------------


@pytest.mark.parametrize("param, value, expected", [
    ("category", "crm", "free"),
    ("pricing", "free", "free"),
    ("pricing", "paid", "paid"),
    ("trial", "1", "paid"),
    ("min_rating", "4", "free"),
    ("badge", "staff_pick", "free"),
    ("region", "us", "paid"),
    ("read_only", "1", "free"),
])
def test_each_filter_narrows_the_results(client, catalog, param, value, expected):
    if param == "category":
        value = catalog[value].slug
    page = search(client, q="lark", **{param: value})
    assert result_slugs(page) == [catalog[expected].slug]
    assert is_checked(page, param, value)  # the form shows the filter in use
    assert 'name="q" value="lark"' in page  # and keeps the text


def test_facet_counts_show_beside_each_choice(client, catalog):
    page = search(client, q="lark")
    assert "2 apps" in page
    assert facet_count(page, "category", catalog["crm"].slug) == 1
    assert facet_count(page, "category", catalog["helpdesk"].slug) == 1
    assert re.search(rf'value="{catalog["crm"].slug}">\s*<span>CRM</span>', page)  # by name
    assert facet_count(page, "pricing", "free") == 1
    assert facet_count(page, "pricing", "paid") == 1
    assert facet_count(page, "trial", "1") == 1
    assert facet_count(page, "min_rating", "4") == 1
    assert facet_count(page, "min_rating", "2") == 2
    assert facet_count(page, "badge", "staff_pick") == 1 and "Staff pick" in page
    assert facet_count(page, "region", "eu") == 1 and "European Union" in page
    assert facet_count(page, "read_only", "1") == 1
    assert "Only apps that need no write access" in page


def test_the_filters_are_a_plain_get_form_that_keeps_text_and_sort(client, catalog):
    page = search(client, q="lark", sort="rating")
    filters = page[page.index('id="filters-heading"'):page.index("Apply filters")]
    assert '<form method="get" action="/search">' in filters  # works without JavaScript
    assert '<input type="hidden" name="q" value="lark">' in filters
    assert '<input type="hidden" name="sort" value="rating">' in filters


def test_facet_counts_follow_the_other_filters(client, catalog):
    page = search(client, q="lark", pricing="free")
    # Price still offers both choices; the other facets count the free app only.
    assert facet_count(page, "pricing", "paid") == 1
    assert facet_count(page, "trial", "1") is None  # would find nothing: not offered
    assert facet_count(page, "region", "us") is None


def test_filters_combine(client, catalog):
    page = search(client, "?q=lark&pricing=paid&min_rating=4")
    assert result_slugs(page) == []
    assert "No apps found" in page and "clear the filters" in page


def test_repeated_filter_values_mean_any_of_them(client, catalog):
    page = search(client, f"?category={catalog['crm'].slug}&category={catalog['helpdesk'].slug}")
    assert sorted(result_slugs(page)) == sorted([catalog["free"].slug, catalog["paid"].slug])


def test_unknown_filter_values_are_ignored_with_a_notice(client, catalog):
    page = search(client, "?q=lark&category=no-such-place&badge=gold&region=mars&sort=sideways"
                          "&pricing=cheap&min_rating=9&trial=maybe")
    assert len(result_slugs(page)) == 2  # as if none of them had been given
    notice = unescape(page[page.index("We ignored"):])
    for named in ("category “no-such-place”", "badge “gold”", "region “mars”",
                  "sort order “sideways”", "price “cheap”", "minimum rating “9”",
                  "free trial “maybe”"):
        assert named in notice
    # "²".isdigit() is true, but int("²") raises: still just an ignored value.
    assert "minimum rating “²”" in unescape(search(client, "?q=lark&min_rating=²"))


def test_known_filter_values_raise_no_notice(client, catalog):
    page = search(client, f"?q=lark&category={catalog['crm'].slug}&sort=rating&min_rating=1")
    assert "We ignored" not in page


# --- sorting and pages ----------------------------------------------------------------


@pytest.mark.parametrize("sort, expected", [
    ("rating", ["best", "middle", "worst"]),
    ("newest", ["middle", "worst", "best"]),
    ("updated", ["worst", "best", "middle"]),
])
def test_sort_orders(client, db, sort, expected):
    now = utcnow()
    listings = {}
    for name, rating, published_days, updated_days in [("best", 5, 9, 5), ("middle", 4, 1, 8),
                                                       ("worst", 2, 3, 1)]:
        listing = factories.make_listing(db, name=f"Heron {name}", tags=["heron"],
                                         published_at=now - timedelta(days=published_days),
                                         updated_at=now - timedelta(days=updated_days))
        factories.make_review(db, listing, rating=rating)
        listings[name] = listing
    page = search(client, q="heron", sort=sort)
    assert result_slugs(page) == [listings[name].slug for name in expected]
    assert f'<option value="{sort}" selected>' in page


def test_pages_keep_the_query_filters_and_sort(app, client, db):
    app.config["PAGE_SIZE"] = 2
    category = factories.make_category(db, name="Birds")
    slugs = [factories.make_listing(db, category=category, name=f"Osprey {n}").slug
             for n in range(3)]
    factories.make_listing(db, category=category, name="Osprey Paid", pricing_model="flat_monthly",
                           monthly_price=500)
    first = search(client, q="osprey", pricing="free", sort="newest")
    assert "3 apps" in first and "Page 1 of 2" in first
    next_link = unescape(re.search(r'<a rel="next" href="([^"]+)"', first).group(1))
    for part in ("q=osprey", "pricing=free", "sort=newest", "page=2"):
        assert part in next_link
    second = search(client, next_link)
    assert "Page 2 of 2" in second
    shown = result_slugs(first) + result_slugs(second)
    assert sorted(shown) == sorted(slugs)  # every app once, none twice


def test_a_page_beyond_the_last_is_empty_with_a_way_back(app, client, db):
    app.config["PAGE_SIZE"] = 2
    for n in range(3):
        factories.make_listing(db, name=f"Puffin {n}")
    page = search(client, q="puffin", page="9")
    assert result_slugs(page) == []
    assert "There is no page 9" in page
    assert 'href="/search?q=puffin">Go back to the first page' in page


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "1.5", "9" * 500])
def test_a_bad_page_number_shows_the_first_page(client, db, raw):
    listing = factories.make_listing(db, name="Gannet")
    if raw == "9" * 500:
        assert "There is no page" in search(client, q="gannet", page=raw)
    else:
        assert result_slugs(search(client, q="gannet", page=raw)) == [listing.slug]


# --- bad and hostile input ------------------------------------------------------------


def test_a_query_longer_than_200_characters_is_cut_with_a_notice(client, db):
    page = search(client, q="a" * 300)
    assert "longer than 200 characters" in page
    assert f'name="q" value="{"a" * 200}"' in page
    assert "a" * 201 not in page


@pytest.mark.parametrize("text", [
    "name:*", '{"query":{"match_all":{}}}', '"unbalanced', "back\\slash", "(", "[", "AND", "OR NOT",
    "*", "-", "🦜🎉", "'; DROP TABLE listings; --", "<script>alert(1)</script>",
])
def test_hostile_queries_are_taken_literally(client, db, text):
    factories.make_listing(db, name="Plain App")
    page = search(client, q=text)
    assert "Plain App" not in page  # nothing in the query matches everything
    assert "<script>alert(1)" not in page


def test_control_characters_in_the_query_are_dropped(client, db):
    listing = factories.make_listing(db, name="Plain App")
    page = search(client, q="plain\x00app\x07")
    assert result_slugs(page) == [listing.slug]
    assert "\x00" not in page


def test_control_characters_in_an_ignored_value_are_not_echoed(client, db):
    page = search(client, "?q=plain&sort=%00&category=a%00b%1b&pricing=%08")
    notice = unescape(page[page.index("We ignored"):])
    assert "category “a b”" in notice
    # Values of control characters alone are as if not given.
    assert "sort order" not in notice and "price" not in notice
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", page)


def test_highlights_escape_markup_from_the_listing(client, db):
    factories.make_listing(db, name="Zebra Forms", tagline="Forms <script>alert('x')</script> fast",
                           description="Zebra <img src=x onerror=alert(1)> builds forms.")
    page = search(client, q="zebra forms")
    assert "<mark>" in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_a_highlight_with_other_markup_is_shown_as_text(app, client, db, monkeypatch):
    # Defence in depth: should a backend ever break the contract and return a
    # snippet with tags other than <mark>, the page still shows no markup.
    listing = factories.make_listing(db, name="Tern Notes")
    service = app.extensions["bazaar.search"]
    real_search = service.search

    def broken_highlights(query):
        answer = real_search(query)
        for hit in answer.result.hits:
            hit.highlights = {"description": "<mark>tern</mark> <img src=x onerror=alert(1)>",
                              "name": "<b>Tern</b> Notes"}
        return answer

    monkeypatch.setattr(service, "search", broken_highlights)
    page = search(client, q="tern")
    assert result_slugs(page) == [listing.slug]
    assert "<img src=x" not in page and "<b>Tern" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


# --- autocomplete ---------------------------------------------------------------------


def test_suggest_answers_names_slugs_categories_and_urls(client, db):
    category = factories.make_category(db, name="Messaging")
    listing = factories.make_listing(db, category=category, name="Chatterbox")
    factories.make_listing(db, name="Unrelated")
    response = client.get("/search/suggest?q=cha")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {"query": "cha", "suggestions": [
        {"name": "Chatterbox", "slug": listing.slug, "category": "Messaging",
         "url": f"/apps/{listing.slug}"}]}


def test_suggest_gives_at_most_eight(client, db):
    category = factories.make_category(db)
    for n in range(10):
        factories.make_listing(db, category=category, name=f"Kestrel {n}")
    assert len(client.get("/search/suggest?q=kes").json["suggestions"]) == 8


@pytest.mark.parametrize("text", ["", "   "])
def test_suggest_with_no_text_is_empty(client, db, text):
    factories.make_listing(db, name="Anything")
    response = client.get("/search/suggest", query_string={"q": text})
    assert response.status_code == 200
    assert response.json == {"query": "", "suggestions": []}


@pytest.mark.parametrize("text", ["name:*", '{"query":{}}', '"', "\\", "🦜", "*", "x" * 300])
def test_suggest_takes_hostile_text_literally(client, db, text):
    factories.make_listing(db, name="Plain App")
    response = client.get("/search/suggest", query_string={"q": text})
    assert response.status_code == 200
    assert response.json["suggestions"] == []
    assert len(response.json["query"]) <= 100


@pytest.mark.parametrize("text", ["\x00cha\x01", "cha\x7f", "\x1bcha"])
def test_suggest_reads_control_characters_as_spaces_as_the_search_page_does(client, db, text):
    listing = factories.make_listing(db, name="Chatterbox")
    response = client.get("/search/suggest", query_string={"q": text})
    assert response.json["query"] == "cha"
    assert [s["slug"] for s in response.json["suggestions"]] == [listing.slug]


@pytest.mark.parametrize("app_overrides", [{"RATELIMIT_ENABLED": True}])
def test_suggest_is_rate_limited_generously(client, db, app_overrides):
    answers = [client.get("/search/suggest?q=") for _ in range(121)]
    assert [answer.status_code for answer in answers[:120]] == [200] * 120
    assert answers[120].status_code == 429
    assert "Too many attempts" in answers[120].json["error"]  # JSON, like every answer there


# --- browse pages through search ------------------------------------------------------


def test_category_and_home_show_a_newly_published_app(client, db):
    category = factories.make_category(db, name="Weather")
    factories.make_listing(db, category=category, name="Old Forecast")
    editor = factories.make_user(db, Role.EDITOR)
    fresh = factories.make_listing(db, category=category, name="Fresh Forecast",
                                   status=ListingStatus.IN_REVIEW)
    assert fresh.slug not in card_slugs(page_of(client.get(f"/categories/{category.slug}")))

    approve_listing(db, fresh, editor)
    db.commit()  # the outbox brings it into the index right after the commit
    category_page = page_of(client.get(f"/categories/{category.slug}"))
    assert card_slugs(category_page)[0] == fresh.slug  # newest first
    assert "2 apps" in category_page
    home = page_of(client.get("/"))
    newest = home[home.index('id="newest-heading"'):]
    assert card_slugs(newest)[0] == fresh.slug
    top_rated = home[home.index('id="top-rated-heading"'):home.index('id="newest-heading"')]
    assert card_slugs(top_rated) == []  # not reviewed yet

    for _ in range(MIN_REVIEWS_ON_SHELF):  # the shelf wants a few reviews
        factories.make_review(db, fresh, rating=4)
    home = page_of(client.get("/"))
    top_rated = home[home.index('id="top-rated-heading"'):home.index('id="newest-heading"')]
    assert card_slugs(top_rated) == [fresh.slug]


def test_browse_pages_ask_the_search_service(app, client, db, monkeypatch):
    category = factories.make_category(db)
    factories.make_listing(db, category=category)
    service = app.extensions["bazaar.search"]
    asked = []
    real_search = service.search
    monkeypatch.setattr(service, "search", lambda query: asked.append(query) or real_search(query))
    client.get(f"/categories/{category.slug}")
    client.get("/")
    assert [(q.categories, q.sort) for q in asked] == [((category.slug,), "newest"),
                                                        ((), "rating"), ((), "newest")]


# --- degraded and down ----------------------------------------------------------------


@pytest.mark.parametrize("app_overrides", [{"OPENSEARCH_URL": "http://127.0.0.1:9",
                                            "OPENSEARCH_TIMEOUT": 0.2}])
def test_with_opensearch_down_the_embedded_index_answers_with_a_notice(client, db, app_overrides):
    listing = factories.make_listing(db, name="Albatross Sync")
    page = search(client, q="albatross")
    assert result_slugs(page) == [listing.slug]
    assert "Search is running in a reduced mode" in page
    suggest = client.get("/search/suggest?q=alba")
    assert suggest.status_code == 200
    assert [s["slug"] for s in suggest.json["suggestions"]] == [listing.slug]


@pytest.fixture
def search_down(app, monkeypatch):
    """Every backend fails: the search service can't answer anything."""
    def unavailable(*args, **kwargs):
        raise SearchUnavailable("all search backends are down")

    service = app.extensions["bazaar.search"]
    monkeypatch.setattr(service, "search", unavailable)
    monkeypatch.setattr(service, "suggest", unavailable)


def test_with_search_down_the_search_page_is_a_friendly_503(client, db, search_down):
    category = factories.make_category(db, name="Gardening")
    response = client.get("/search?q=anything")
    page = page_of(response)
    assert response.status_code == 503
    assert "Search is taking a short break" in page
    assert f'href="/categories/{category.slug}">Gardening</a>' in page


def test_with_search_down_suggest_answers_503_json(client, db, search_down):
    response = client.get("/search/suggest?q=any")
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
    assert "error" in response.json


def test_with_search_down_browse_pages_read_the_database(client, db, search_down):
    category = factories.make_category(db, name="Bees")
    listing = factories.make_listing(db, category=category, name="Hive Planner")
    factories.make_review(db, listing, rating=5)
    response = client.get(f"/categories/{category.slug}")
    assert response.status_code == 200
    assert card_slugs(page_of(response)) == [listing.slug]
    home = client.get("/")
    assert home.status_code == 200
    assert "Hive Planner" in page_of(home)


# --- the header's search box ----------------------------------------------------------


def test_every_page_has_a_search_box_with_autocomplete(client, db):
    page = page_of(client.get("/categories"))
    assert 'role="search"' in page and 'action="/search"' in page
    assert '<label for="site-search-q" class="visually-hidden">Search apps</label>' in page
    assert 'data-suggest-url="/search/suggest"' in page
    assert "js/search.js" in page and "defer" in page


@pytest.mark.parametrize("app_overrides", [{"OPENSEARCH_URL": "http://127.0.0.1:9",
                                            "OPENSEARCH_TIMEOUT": 0.2}])
def test_an_answer_from_the_fallback_is_never_kept(client, db, app_overrides):
    factories.make_listing(db, name="Albatross Sync")
    for _ in range(2):
        assert "Search is running in a reduced mode" in search(client, q="albatross")
    # Once OpenSearch answers again, the next search is its answer, not a kept one.


# --- kept answers ----------------------------------------------------------------------


def test_a_repeated_search_is_answered_from_what_was_kept(app, client, db, monkeypatch):
    first = factories.make_listing(db, name="Heron Sync")
    service = app.extensions["bazaar.search"]
    asked = []
    real_search, real_suggest = service.search, service.suggest
    monkeypatch.setattr(service, "search", lambda query: asked.append(query) or real_search(query))
    monkeypatch.setattr(service, "suggest",
                        lambda *args: asked.append(args) or real_suggest(*args))
    for _ in range(3):
        assert result_slugs(search(client, q="heron")) == [first.slug]
        assert client.get("/search/suggest?q=her").json["suggestions"]
    assert len(asked) == 2  # one search, one suggestion list
    # A change to the catalog: the next search asks the index again, and finds it.
    second = factories.make_listing(db, name="Heron Two")
    assert set(result_slugs(search(client, q="heron"))) == {first.slug, second.slug}
    names = {s["name"] for s in client.get("/search/suggest?q=her").json["suggestions"]}
    assert names == {"Heron Sync", "Heron Two"}
    assert len(asked) == 4
