"""Rows for migration tests: listings written with plain SQL at an older revision,
where the app's models (which follow the newest schema) cannot be used."""

from sqlalchemy import text

from core.db import make_engine, upgrade_database


def database_with_listings(url: str, revision: str, listings: list[dict]) -> None:
    """A database at ``revision`` with one partner, one category and ``listings``
    (each: name, slug, description, status)."""
    upgrade_database(url, revision)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO partners (name, slug, tier, created_at) "
            "VALUES ('Northwind', 'northwind', 'registered', '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO categories (name, slug, description, position) "
            "VALUES ('CRM', 'crm', '', 1)"))
        for listing in listings:
            connection.execute(text(
                "INSERT INTO listings (name, tagline, description, tags, pricing_model, currency, "
                "monthly_price, unit_price, included_units, trial_days, data_residency, slug, "
                "partner_id, category_id, status, created_at, updated_at) VALUES (:name, 'x', "
                ":description, '[]', 'free', 'usd', 0, 0, 0, 0, '[]', :slug, 1, 1, :status, "
                "'2026-01-01', '2026-01-01')"), listing)
    engine.dispose()
