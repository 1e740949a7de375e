"""Migration 0019 on a database that already has listings: each gets the plain text of
its description (what its search document carries), so the first reindex after the
upgrade indexes the same text as before it; the way back works too."""

from alembic import command
from sqlalchemy import text

from core.db import alembic_config, make_engine, upgrade_database
from core.markdown import markdown_to_text
from tests.unit.core.migration_data import database_with_listings

DESCRIPTIONS = ["**Pipe Sync** keeps *contacts* in step.\n\n- Two-way\n- [Docs](https://x.example)",
                "", "Plain words only."]


def test_existing_listings_get_the_text_of_their_description_and_it_reverses(tmp_path):
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    database_with_listings(url, "0018", [
        {"name": f"App {n}", "slug": f"app-{n}", "description": description,
         "status": "published"} for n, description in enumerate(DESCRIPTIONS)])

    upgrade_database(url, "0019")

    engine = make_engine(url)
    with engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT description_text FROM listings ORDER BY id")).scalars().all()
    engine.dispose()
    assert stored == [markdown_to_text(description) for description in DESCRIPTIONS]
    assert stored[0] == "Pipe Sync keeps contacts in step. Two-way · Docs"

    command.downgrade(alembic_config(url), "0018")
    upgrade_database(url, "0019")
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text(
            "SELECT description_text FROM listings ORDER BY id")).scalars().all() == stored
    engine.dispose()
