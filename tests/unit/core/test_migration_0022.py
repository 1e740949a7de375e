"""Migration 0022 on a database with releases: each listing's webhook endpoint starts
as the URL of its current release (the newest approved one), so no partner's events
stop or move on upgrade; pending and rejected releases' URLs are not taken."""

from alembic import command
from sqlalchemy import text

from core.db import alembic_config, make_engine, upgrade_database
from tests.unit.core.migration_data import database_with_listings

RELEASES = [
    # (listing id, version, webhook_url, review_status, created_at)
    (1, "1.0.0", "https://old.example.com/hooks", "approved", "2026-01-01"),
    (1, "1.1.0", "https://new.example.com/hooks", "approved", "2026-02-01"),
    (1, "2.0.0", "https://pending.example.com/hooks", "pending", "2026-03-01"),
    (2, "1.0.0", None, "approved", "2026-01-01"),
    (3, "1.0.0", "https://draft.example.com/hooks", "pending", "2026-01-01"),
]


def _endpoints(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = connection.execute(text(
            "SELECT webhook_url FROM listings ORDER BY id")).scalars().all()
    engine.dispose()
    return found


def test_each_listing_gets_its_current_releases_webhook_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    database_with_listings(url, "0021", [
        {"name": f"App {n}", "slug": f"app-{n}", "description": "", "status": "published"}
        for n in range(3)])
    engine = make_engine(url)
    with engine.begin() as connection:
        for listing_id, version, webhook_url, status, created_at in RELEASES:
            connection.execute(text(
                "INSERT INTO releases (listing_id, version, changelog, scopes, redirect_url, "
                "webhook_url, review_status, created_at) VALUES (:listing_id, :version, '', "
                "'[]', 'https://x.example.com/in', :webhook_url, :status, :created_at)"),
                {"listing_id": listing_id, "version": version, "webhook_url": webhook_url,
                 "status": status, "created_at": created_at})
    engine.dispose()

    upgrade_database(url, "0022")

    assert _endpoints(url) == ["https://new.example.com/hooks", None, None]
    command.downgrade(alembic_config(url), "0021")
    upgrade_database(url, "0022")
    assert _endpoints(url) == ["https://new.example.com/hooks", None, None]
