"""Migration 0020 on a database that already has listings: the new local search
index starts empty, so every published listing gets an outbox row for it and the
outbox fills it; nothing goes missing from search after the upgrade."""

from sqlalchemy import text

from core.db import make_engine, upgrade_database
from tests.unit.core.migration_data import database_with_listings


def test_every_published_listing_is_queued_for_the_local_index(tmp_path):
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    database_with_listings(url, "0019", [
        {"name": f"App {n}", "slug": f"app-{n}", "description": "", "status": status}
        for n, status in enumerate(["published", "draft", "published", "delisted"])])

    upgrade_database(url, "0020")

    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT o.target, l.slug FROM search_outbox o JOIN listings l ON l.id = o.listing_id "
            "ORDER BY l.slug")).all()
    engine.dispose()
    assert rows == [("embedded", "app-0"), ("embedded", "app-2")]
