"""Migration 0020 on a database that already has listings: the new local search
index starts empty, so every published listing gets an outbox row for it and the
outbox fills it; nothing goes missing from search after the upgrade."""

from sqlalchemy import text

from core.db import make_engine, upgrade_database


def test_every_published_listing_is_queued_for_the_local_index(tmp_path):
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    upgrade_database(url, "0019")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO partners (name, slug, tier, created_at) "
            "VALUES ('Northwind', 'northwind', 'registered', '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO categories (name, slug, description, position) "
            "VALUES ('CRM', 'crm', '', 1)"))
        for n, status in enumerate(["published", "draft", "published", "delisted"]):
            connection.execute(text(
                "INSERT INTO listings (name, tagline, description, tags, pricing_model, currency, "
                "monthly_price, unit_price, included_units, trial_days, data_residency, slug, "
                "partner_id, category_id, status, created_at, updated_at) VALUES (:name, 'x', "
                "'', '[]', 'free', 'usd', 0, 0, 0, 0, '[]', :slug, 1, 1, :status, "
                "'2026-01-01', '2026-01-01')"),
                {"name": f"App {n}", "slug": f"app-{n}", "status": status})
    engine.dispose()

    upgrade_database(url, "0020")

    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT o.target, l.slug FROM search_outbox o JOIN listings l ON l.id = o.listing_id "
            "ORDER BY l.slug")).all()
    engine.dispose()
    assert rows == [("embedded", "app-0"), ("embedded", "app-2")]
