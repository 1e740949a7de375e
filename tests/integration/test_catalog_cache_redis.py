"""With ``CACHE_URL=redis://...``, the catalog pages are rendered once for every
process sharing the Redis (here: two apps on one database, as two gunicorn
workers would be), and a change made in one shows in the other at once. A Redis
that cannot be reached costs speed, never a page."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from app import create_app
from tests import factories


@pytest.fixture
def app_overrides(redis_url):
    return {"CACHE_URL": redis_url}


def listing_reads(app, client, path: str) -> list[str]:
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        if " listings" in statement:
            statements.append(statement)

    engine = app.extensions["bazaar.engine"]
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return statements


def test_workers_sharing_redis_render_a_catalog_page_once(app, client, db):
    factories.make_listing(db, name="Shared Shelf App")
    other = create_app(dict(app.config))
    try:
        other_client = other.test_client()
        assert listing_reads(app, client, "/")  # rendered here...
        assert listing_reads(other, other_client, "/") == []  # ...and kept for the other
        factories.make_listing(db, name="Made After")
        page = other_client.get("/").get_data(as_text=True)
        assert "Made After" in page
    finally:
        other.extensions["bazaar.engine"].dispose()


def test_an_unreachable_redis_still_serves_every_page(app, db, caplog):
    factories.make_listing(db, name="Still Shown")
    # Nothing listens on port 9 (discard) on this host.
    down = create_app(dict(app.config, CACHE_URL="redis://127.0.0.1:9/0"))
    try:
        page = down.test_client().get("/")
        assert page.status_code == 200
        assert "Still Shown" in page.get_data(as_text=True)
        assert "Cache unavailable" in caplog.text
    finally:
        down.extensions["bazaar.engine"].dispose()
