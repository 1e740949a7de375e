"""A web worker warms itself up before its first visitor (storefront/warmup.py,
called from gunicorn.conf.py)."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

from app import create_app
from tests import factories
from tests.sql_counting import count_queries

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_the_worker_hook_warms_the_pages_the_first_visitor_asks_for(app, client, db):
    category = factories.make_category(db)
    listing = factories.make_listing(db, category=category, name="Warm App")
    hooks = runpy.run_path(str(GUNICORN_CONF))
    hooks["post_worker_init"](SimpleNamespace(wsgi=app))
    with count_queries(app) as statements:
        for path in ("/", f"/categories/{category.slug}"):
            assert client.get(path).status_code == 200
    # The first visitor's pages were kept by the warm-up: no listing was read for them.
    assert [s for s in statements if " listings" in s] == []
    assert "Warm App" in client.get(f"/apps/{listing.slug}").get_data(as_text=True)


def test_a_browsers_first_visit_after_the_warm_up_is_sent_as_it_was_kept(app, client, db,
                                                                         monkeypatch):
    """Browsers take brotli: the warm-up keeps its pages as a browser asks for them, so
    the first visitor's app page and search are not rendered again."""
    from core import http_caching
    from storefront.warmup import warm_up

    category = factories.make_category(db)
    listing = factories.make_listing(db, category=category, name="Warm App")
    warm_up(app)
    compressed = []
    real = http_caching.compressed
    monkeypatch.setattr(http_caching, "compressed",
                        lambda body, coding, **level: compressed.append(coding)
                        or real(body, coding, **level))
    browser = {"Accept-Encoding": "gzip, deflate, br, zstd"}
    for path in ("/", f"/categories/{category.slug}", f"/apps/{listing.slug}", "/search?q=app"):
        answer = client.get(path, headers=browser)
        assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "br", path
    assert compressed == []


def test_warm_up_asks_for_each_public_page_once(app, db):
    from storefront.warmup import warm_up

    category = factories.make_category(db)
    listing = factories.make_listing(db, category=category)
    done = warm_up(app)
    paths = [path for path, _, _ in done]
    assert "/" in paths and f"/categories/{category.slug}" in paths
    assert f"/apps/{listing.slug}" in paths
    assert all(status == 200 for _, status, _ in done), done


def test_warm_up_on_an_empty_catalog(app, db):
    from storefront.warmup import warm_up

    assert all(status == 200 for _, status, _ in warm_up(app))


def test_warm_up_never_stops_a_worker(tmp_path, caplog):
    from storefront.warmup import warm_up

    # A database that was never migrated: every page fails, and the worker serves on.
    broken = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
                         "SEARCH_INDEX_DIR": str(tmp_path / "index"),
                         "UPLOAD_FOLDER": str(tmp_path / "uploads"), "SEARCH_SYNC_SENDER": "off",
                         "WEBHOOK_SENDER": "off", "USAGE_SENDER": "off", "MAIL_SENDER": "off"})
    try:
        done = warm_up(broken)
    finally:
        broken.extensions["bazaar.engine"].dispose()
    assert done and all(status != 200 for path, status, _ in done if path == "/")
    assert "Warm-up could not read the catalog" in caplog.text
