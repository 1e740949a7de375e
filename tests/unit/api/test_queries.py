"""The Partner API's read queries (api/queries.py), called directly: an API key's
listing sees only its own installs, oldest first, a page at a time after a cursor."""

from __future__ import annotations

from sqlalchemy import event

from api.queries import listing_install, listing_installs_after
from installs.services import install_public
from tests import factories


def installs_of(db, listing, count: int, status: str = "active"):
    return [factories.make_install(db, factories.make_workspace(db, factories.make_user(db)),
                                   listing, status=status) for _ in range(count)]


def test_an_install_is_found_only_through_its_own_listing(db):
    ours, theirs = factories.make_listing(db), factories.make_listing(db)
    install = installs_of(db, ours, 1)[0]
    assert listing_install(db, ours.id, install.id).id == install.id
    assert listing_install(db, theirs.id, install.id) is None
    assert listing_install(db, ours.id, install.id + 1000) is None


def test_pages_hold_only_the_listings_installs_oldest_first_after_the_cursor(db):
    ours, theirs = factories.make_listing(db), factories.make_listing(db)
    mine = installs_of(db, ours, 2)
    installs_of(db, theirs, 2)
    mine += installs_of(db, ours, 1)

    first = listing_installs_after(db, ours.id, None, None, limit=2)
    assert [i.id for i in first.installs] == [mine[0].id, mine[1].id] and first.more
    rest = listing_installs_after(db, ours.id, None, first.installs[-1].id, limit=2)
    assert [i.id for i in rest.installs] == [mine[2].id] and not rest.more
    after = listing_installs_after(db, theirs.id, None, mine[2].id, limit=10)
    assert (after.installs, after.more) == ([], False)


def test_a_status_keeps_only_installs_in_that_status(db):
    listing = factories.make_listing(db)
    active = installs_of(db, listing, 1)
    uninstalled = installs_of(db, listing, 2, status="uninstalled")
    found = listing_installs_after(db, listing.id, "uninstalled", None, limit=10).installs
    assert [i.id for i in found] == [i.id for i in uninstalled]
    found = listing_installs_after(db, listing.id, "active", None, limit=10).installs
    assert [i.id for i in found] == [active[0].id]


def test_describing_a_page_of_installs_asks_the_database_nothing_more(app, db):
    listing = factories.make_listing(db)
    installs_of(db, listing, 3)
    db.expunge_all()  # a fresh session, as in a request
    page = listing_installs_after(db, listing.id, None, None, limit=10)
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.extensions["bazaar.engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        described = [install_public(db, install) for install in page.installs]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(described) == 3
    assert statements == []
