"""Migration 0029 queues every published listing for each search index synced here,
so the embedded indexes write their names' keys without accents by themselves."""

from alembic import command
from sqlalchemy import text

from core.db import alembic_config, make_engine, upgrade_database
from tests.unit.core.migration_data import database_with_listings


def queued(url: str) -> list[tuple]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT listing_id, target FROM search_outbox ORDER BY listing_id, target")).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_published_listings_are_queued_for_every_synced_index(tmp_path):
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    database_with_listings(url, "0028", [
        {"name": name, "slug": f"app-{n}", "description": "", "status": status}
        for n, (name, status) in enumerate([("Crème Brûlée", "published"),
                                            ("Draft Thing", "draft"),
                                            ("Café Rota", "published")])])
    engine = make_engine(url)
    with engine.begin() as connection:  # two indexes synced here, nothing waiting
        connection.execute(text("DELETE FROM search_outbox"))
        connection.execute(text("INSERT INTO search_sync_state (target, attempts) "
                                "VALUES ('embedded', 0), ('opensearch', 0)"))
    engine.dispose()

    upgrade_database(url, "0029")
    assert queued(url) == [(1, "embedded"), (1, "opensearch"),
                           (3, "embedded"), (3, "opensearch")]
    command.downgrade(alembic_config(url), "0028")
    upgrade_database(url, "0029")  # the way back and forth again leaves nothing broken
