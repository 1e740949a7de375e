"""The catalog pages (home, categories, a category, a collection) are rendered once per
catalog change and kept: a repeat visit reads no listing, and any change an editor,
a partner, a customer or the search index's catch-up makes shows on the next visit.
Anonymous visitors can revalidate them cheaply (ETag, 304)."""

from __future__ import annotations

import gzip
import os
import re
import sqlite3
import uuid
from contextlib import contextmanager

import brotli
import pytest
from sqlalchemy import event, update

from app import create_app
from core import http_caching
from listings.models import CollectionItem, Listing, ListingStatus
from search import sync
from tests import factories
from tests.sql_counting import count_queries


def reads_listings(statement: str) -> bool:
    return re.search(r"\b(FROM|JOIN)\s+listings\b", statement) is not None


@pytest.fixture
def catalog(db):
    tools = factories.make_category(db, name="Sales tools")
    first = factories.make_listing(db, category=tools, name="Pipeline Pro")
    second = factories.make_listing(db, category=tools, name="Call Logger")
    factories.make_review(db, first, rating=4)
    shelf = factories.make_collection(db, [first, second], name="Editors' shelf")
    return {"category": tools, "first": first, "second": second, "collection": shelf}


def catalog_paths(catalog) -> list[str]:
    return ["/", "/categories", f"/categories/{catalog['category'].slug}",
            f"/collections/{catalog['collection'].slug}"]


def test_a_repeat_visit_to_a_catalog_page_reads_no_listing(app, client, db, catalog):
    for path in catalog_paths(catalog):
        assert client.get(path).status_code == 200
        with count_queries(app) as statements:
            again = client.get(path)
        assert again.status_code == 200
        assert [s for s in statements if reads_listings(s)] == [], path
        # One small read says whether the catalog changed since.
        assert len(statements) <= 3, (path, statements)


def test_the_cached_page_is_the_page(app, client, db, catalog):
    for path in catalog_paths(catalog):
        first = client.get(path).get_data(as_text=True)
        assert client.get(path).get_data(as_text=True) == first


def _rename(db, listing, name):
    listing.name = name
    db.add(listing)
    db.commit()


CHANGES = {
    "a listing is published": lambda db, c: factories.make_listing(
        db, category=c["category"], name="Brand New Thing"),
    "a listing is renamed": lambda db, c: _rename(db, c["second"], "Brand New Thing"),
    "a review is published": lambda db, c: factories.make_review(
        db, c["second"], rating=5, title="Brand New Thing"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_shows_on_the_next_visit(client, db, catalog, change):
    category_page = f"/categories/{catalog['category'].slug}"
    for path in ("/", category_page):
        client.get(path)
    CHANGES[change](db, catalog)
    if change == "a review is published":
        # The review's rating: Call Logger now has one.
        assert "1 review" in client.get(category_page).get_data(as_text=True)
    else:
        assert "Brand New Thing" in client.get("/").get_data(as_text=True)
        assert "Brand New Thing" in client.get(category_page).get_data(as_text=True)


def test_delisting_takes_the_app_off_the_cached_pages(client, db, catalog):
    collection_page = f"/collections/{catalog['collection'].slug}"
    assert "Call Logger" in client.get(collection_page).get_data(as_text=True)
    catalog["second"].status = ListingStatus.DELISTED
    db.add(catalog["second"])
    db.commit()
    assert "Call Logger" not in client.get(collection_page).get_data(as_text=True)
    assert "Call Logger" not in client.get("/").get_data(as_text=True)


def test_counts_follow_a_new_listing(client, db, catalog):
    assert "(2 apps)" in client.get("/categories").get_data(as_text=True)
    factories.make_listing(db, category=catalog["category"])
    assert "(3 apps)" in client.get("/categories").get_data(as_text=True)


def test_an_editors_collection_change_shows_at_once(client, db, catalog):
    page = f"/collections/{catalog['collection'].slug}"
    client.get(page)
    third = factories.make_listing(db, name="Shelf Newcomer")
    db.add(CollectionItem(collection_id=catalog["collection"].id, listing_id=third.id,
                          position=5))
    db.commit()
    assert "Shelf Newcomer" in client.get(page).get_data(as_text=True)


def test_a_bulk_update_the_orm_did_not_load_still_refreshes_the_pages(client, db, catalog):
    page = f"/categories/{catalog['category'].slug}"
    client.get(page)
    db.execute(update(Listing).where(Listing.id == catalog["first"].id)
               .values(name="Renamed In Bulk"))
    db.commit()
    assert "Renamed In Bulk" in client.get(page).get_data(as_text=True)


def test_the_index_catching_up_refreshes_the_pages(app, client, db, catalog):
    # The home page's "Newest" shelf comes from the search index. A listing whose
    # outbox rows wait (a busy worker) is not in it yet...
    listing = Listing(name="Waiting In The Outbox", slug="waiting", tagline="Soon indexed",
                      description="Waits for the search index.", tags=[],
                      partner_id=catalog["first"].partner_id,
                      category_id=catalog["category"].id, status=ListingStatus.PUBLISHED,
                      published_at=catalog["first"].published_at.replace(year=2100),
                      support_url="https://support.example.com",
                      privacy_url="https://example.com/privacy", data_residency=["us"])
    db.add(listing)
    db.flush()
    db.info.pop(sync.DIRTY_KEY)  # the commit leaves the rows to the background sync
    db.commit()
    assert "Waiting In The Outbox" not in client.get("/").get_data(as_text=True)
    # ...and once the sync has applied them, the next visit shows it.
    sync.apply_pending(app)
    assert "Waiting In The Outbox" in client.get("/").get_data(as_text=True)


# --- HTTP caching --------------------------------------------------------------------


def test_a_search_rendered_on_sqlite_takes_one_connection_for_the_token_and_the_cards(
        app, client, db, catalog):
    """On SQLite a read begins no transaction (nothing to save by reading the catalog's
    version apart, as on PostgreSQL), so the token is read on the connection the cards
    are read on afterwards: one checkout from the pool instead of two."""
    engine = app.extensions["bazaar.engine"]
    client.get("/search?q=other")  # the editors' synonym lines, checked at this version
    checkouts = []
    listener = lambda *args: checkouts.append(args)  # noqa: E731
    event.listen(engine, "checkout", listener)
    try:
        page = client.get("/search?q=app")
    finally:
        event.remove(engine, "checkout", listener)
    assert page.status_code == 200 and catalog["first"].name in page.get_data(as_text=True)
    assert len(checkouts) == (1 if engine.dialect.name == "sqlite" else 2)


def test_anonymous_visitors_revalidate_catalog_pages_with_an_etag(client, db, catalog):
    for path in catalog_paths(catalog):
        first = client.get(path)
        assert first.headers["ETag"], path
        assert "no-cache" in first.headers["Cache-Control"]
        assert "public" in first.headers["Cache-Control"]
        assert "Cookie" in first.headers["Vary"]
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, path
        assert again.get_data() == b""


def test_a_catalog_change_gives_a_new_etag(client, db, catalog):
    first = client.get("/")
    factories.make_listing(db, category=catalog["category"], name="Brand New Thing")
    again = client.get("/", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert "Brand New Thing" in again.get_data(as_text=True)
    assert again.headers["ETag"] != first.headers["ETag"]


def test_signed_in_pages_are_private_and_never_304(client, db, login, catalog):
    user = factories.make_user(db, name="Ada Visitor")
    login(user)
    page = client.get("/")
    assert "Ada Visitor" in page.get_data(as_text=True)
    assert "ETag" not in page.headers
    assert "private" in page.headers["Cache-Control"]
    assert client.get("/", headers={"If-None-Match": "*"}).status_code == 200


def test_a_page_with_a_message_waiting_is_not_answered_from_the_etag(client, db, catalog):
    first = client.get("/")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "You have been signed out.")]
    again = client.get("/", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert "You have been signed out." in again.get_data(as_text=True)
    assert "ETag" not in again.headers



# --- static files and compression -----------------------------------------------------


def test_static_files_carry_their_content_hash_and_are_kept_for_a_year(client, db):
    page = client.get("/").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]{12})"', page)
    assert stylesheet, "the stylesheet's URL has no content hash"
    with client.get(stylesheet.group(1)) as hashed:
        assert hashed.status_code == 200
        assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # Without the hash, or with an old one: revalidate.
    for url in ("/static/css/site.css", "/static/css/site.css?v=000000000000"):
        with client.get(url) as plain:
            assert plain.status_code == 200
            assert plain.headers["Cache-Control"] == "no-cache"
            assert plain.headers["ETag"]


def test_a_deployed_app_builds_each_static_address_once_per_prefix(app, client, db,
                                                                     monkeypatch):
    """Deployed (files not watched), a page's static addresses are built once and kept:
    base.html links to seven, each 14 µs through the routing map. The same addresses,
    hash included; behind a proxy's prefix, that prefix's own."""
    monkeypatch.setattr(app, "testing", False)
    app.config["TEMPLATES_AUTO_RELOAD"] = False
    built = []
    real = app.inject_url_defaults

    def counting(endpoint, values):
        built.append((endpoint, values.get("filename")))
        real(endpoint, values)

    monkeypatch.setattr(app, "inject_url_defaults", counting)
    # The sign-in page: rendered on every visit (a catalog page would be kept whole).
    first = client.get("/account/login").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]{12})"', first).group(1)
    assert ("static", "css/site.css") in built
    built.clear()
    again = client.get("/account/login").get_data(as_text=True)
    assert stylesheet in again
    assert not [address for address in built if address[0] == "static"], built
    prefixed = client.get("/account/login", environ_overrides={"SCRIPT_NAME": "/market"})
    assert f'href="/market{stylesheet}"' in prefixed.get_data(as_text=True)


@pytest.mark.parametrize("encoding, decompress", [
    ("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_pages_are_compressed_for_browsers_that_accept_it(client, db, catalog, encoding,
                                                          decompress):
    plain = client.get("/").get_data()
    packed = client.get("/", headers={"Accept-Encoding": encoding})
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert decompress(packed.get_data()) == plain
    assert len(packed.get_data()) < len(plain) / 3


@pytest.mark.parametrize("encoding, decompress", [
    ("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_a_kept_page_is_kept_compressed_too(client, db, catalog, encoding, decompress,
                                            monkeypatch):
    """A kept page is compressed once per encoding, not on every visit."""
    plain = client.get("/").get_data()
    calls = []
    real = http_caching.compressed

    def counting(body, coding, **level):
        calls.append(coding)
        return real(body, coding, **level)

    monkeypatch.setattr(http_caching, "compressed", counting)
    for _ in range(3):
        packed = client.get("/", headers={"Accept-Encoding": f"{encoding}, identity"})
        assert packed.headers["Content-Encoding"] == encoding
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert decompress(packed.get_data()) == plain
    assert calls == [encoding]
    # A browser that takes neither gets the plain page.
    assert client.get("/", headers={"Accept-Encoding": "identity"}).get_data() == plain


@pytest.mark.parametrize("encoding, decompress, level", [
    ("gzip", gzip.decompress, lambda body: gzip.compress(body, compresslevel=1)),
    ("br", brotli.decompress, lambda body: brotli.compress(body, quality=1))])
def test_a_search_page_is_compressed_at_the_fastest_level(app, client, db, catalog, encoding,
                                                        decompress, level):
    """Results pages are endless combinations, nearly each asked for once: compressing one
    at the kept pages' level cost more than the bytes it saved, so the fastest is used."""
    assert app.config["COMPRESS_BR_LEVEL"] > 1 and app.config["COMPRESS_LEVEL"] > 1
    plain = client.get("/search?q=app").get_data()
    packed = client.get("/search?q=app", headers={"Accept-Encoding": encoding})
    assert packed.headers["Content-Encoding"] == encoding
    assert decompress(packed.get_data()) == plain
    # The same length as the fastest level gives (gzip's header carries the time).
    assert len(packed.get_data()) == len(level(plain))
    # The catalog's own pages, asked for again and again, keep the configured level.
    home = client.get("/").get_data()
    assert len(client.get("/", headers={"Accept-Encoding": encoding}).get_data()) < len(
        level(home))


def test_a_signed_in_visitors_page_is_compressed_afresh(client, db, catalog, login):
    login(factories.make_user(db))
    packed = client.get("/", headers={"Accept-Encoding": "br"})
    assert packed.headers["Content-Encoding"] == "br"
    assert b"Sign out" in brotli.decompress(packed.get_data())


# --- an app's page --------------------------------------------------------------------


def test_an_anonymous_repeat_visit_to_an_app_page_is_served_from_the_cache(app, client, db,
                                                                           catalog):
    page = f"/apps/{catalog['first'].slug}"
    first = client.get(page)
    with count_queries(app) as statements:
        again = client.get(page)
    assert again.get_data() == first.get_data()
    # Only the catalog's version: whether the app is still public is part of it.
    assert len(statements) == 1, statements
    assert again.headers["ETag"]
    assert client.get(page, headers={"If-None-Match": again.headers["ETag"]}).status_code == 304


@contextmanager
def statements_sent(engine, tmp_path):
    """Every statement the database driver sends, BEGIN and ROLLBACK included (which
    SQLAlchemy's own events do not tell apart from a transaction it only notes)."""
    sent: list[str] = []
    trace = tmp_path / f"libpq-{uuid.uuid4().hex}.trace"

    def watch(dbapi_connection, _record, _proxy):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(sent.append)
        else:  # psycopg: libpq's protocol trace
            dbapi_connection.pgconn.trace(os.open(trace, os.O_WRONLY | os.O_CREAT | os.O_APPEND))

    def unwatch(dbapi_connection, _record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(None)
        else:
            dbapi_connection.pgconn.untrace()

    event.listen(engine, "checkout", watch)
    event.listen(engine, "checkin", unwatch)
    try:
        yield sent
    finally:
        event.remove(engine, "checkout", watch)
        event.remove(engine, "checkin", unwatch)
        if trace.exists():
            # Simple queries (BEGIN, ROLLBACK) and parsed ones: 'F <length> Query "..."',
            # 'F <length> Parse "<name>" "..."'.
            sent += re.findall(r'\tF\t\d+\t(?:Query\t|Parse\t "[^"]*") "([^"]*)"',
                               trace.read_text())


def test_a_kept_page_costs_one_statement_and_no_transaction(app, client, db, catalog,
                                                             tmp_path):
    """On PostgreSQL each statement is a round trip: a kept page reads the token outside
    a transaction (no BEGIN, no ROLLBACK)."""
    for path in [*catalog_paths(catalog), f"/apps/{catalog['first'].slug}"]:
        client.get(path)
        with statements_sent(app.extensions["bazaar.engine"], tmp_path) as sent:
            assert client.get(path).status_code == 200
        words = [statement.split()[0].upper() for statement in sent if statement.strip()]
        assert "BEGIN" not in words and "ROLLBACK" not in words, (path, sent)


def test_an_unknown_category_or_collection_is_never_kept(client, db, catalog):
    for _ in range(2):
        assert client.get("/categories/not-yet").status_code == 404
        assert client.get("/collections/not-yet").status_code == 404
    category = factories.make_category(db, name="Not yet")
    collection = factories.make_collection(db, [catalog["first"]], name="Not yet")
    category.slug = collection.slug = "not-yet"
    db.add_all([category, collection])
    db.commit()
    assert client.get("/categories/not-yet").status_code == 200
    assert client.get("/collections/not-yet").status_code == 200


def test_an_app_page_shows_a_new_release_and_screenshot_at_once(app, client, db, catalog):
    listing = catalog["first"]
    page = f"/apps/{listing.slug}"
    client.get(page)
    factories.make_release(db, listing, version="2.5.0")
    assert "2.5.0" in client.get(page).get_data(as_text=True)
    factories.make_screenshot(db, listing, app.config["UPLOAD_FOLDER"], caption="Brand new view")
    assert "Brand new view" in client.get(page).get_data(as_text=True)


def test_each_page_of_an_apps_reviews_is_kept_apart(client, db, catalog):
    listing = catalog["second"]
    for n in range(12):
        factories.make_review(db, listing, title=f"Review number {n:02d}")
    first_page = client.get(f"/apps/{listing.slug}").get_data(as_text=True)
    second_page = client.get(f"/apps/{listing.slug}?page=2").get_data(as_text=True)
    assert "Review number 11" in first_page and "Review number 11" not in second_page
    assert "Review number 00" in second_page and "Review number 00" not in first_page


def test_a_signed_in_visitor_gets_their_own_app_page(client, db, login, catalog):
    page = f"/apps/{catalog['first'].slug}"
    client.get(page)  # an anonymous copy is kept...
    login(factories.make_user(db, name="Grace Member"))
    mine = client.get(page)  # ...and not shown to a signed-in visitor
    assert "Grace Member" in mine.get_data(as_text=True)
    assert "private" in mine.headers["Cache-Control"]


@pytest.fixture
def cache_off(app):
    """The app again, with the cache turned off (``CATALOG_CACHE_SECONDS=0``)."""
    off = create_app(dict(app.config, CATALOG_CACHE_SECONDS=0))
    yield off
    off.extensions["bazaar.engine"].dispose()


def test_with_the_cache_turned_off_every_visit_renders_the_page(cache_off, db, catalog):
    client = cache_off.test_client()
    client.get("/")
    with count_queries(cache_off) as statements:
        assert client.get("/").status_code == 200
    assert [s for s in statements if reads_listings(s)]


def reads_category_names(statement: str) -> bool:
    return re.search(r"SELECT categories\.slug, categories\.name\s+FROM categories",
                     statement) is not None


def test_a_search_reads_the_category_names_once_per_catalog_version_whatever_the_cache(
        cache_off, db, catalog):
    """Every new search needs the category names (its filter's values and labels), and
    they change only with the catalog: the process keeps the newest version's, even
    with the cache turned off (or far away, in Redis) and however each page is kept."""
    client = cache_off.test_client()
    client.get("/search?q=pipeline")
    with count_queries(cache_off) as statements:
        assert client.get("/search?q=logger").status_code == 200
    assert [s for s in statements if reads_category_names(s)] == []
    # A new category is a new catalog version: the next search knows it.
    shelf = factories.make_category(db, name="Brand New Shelf")
    with count_queries(cache_off) as statements:
        page = client.get("/search?q=pipeline").get_data(as_text=True)
    assert len([s for s in statements if reads_category_names(s)]) == 1
    assert "Sales tools" in page
    chosen = client.get(f"/search?q=pipeline&category={shelf.slug}").get_data(as_text=True)
    assert "filter we don't recognise" not in chosen
    assert f'name="category" value="{shelf.slug}" checked' in chosen
