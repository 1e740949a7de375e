"""Migration 0026 on a database whose listings hold the plain text 0019 stored (the
Markdown blocks joined by spaces): each is rendered again with " · " where a block
ended without punctuation, what search snippets show; the way back restores it."""

from alembic import command
from sqlalchemy import text

from core.db import alembic_config, make_engine, upgrade_database
from tests.unit.core.migration_data import database_with_listings

DESCRIPTIONS = ["## What you get\n\n- Invoices\n- Reminders\n\nAll in one place.", "",
                "Plain words only."]
OLD = ["What you get Invoices Reminders All in one place.", "", "Plain words only."]


def stored_texts(url: str) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as connection:
        texts = connection.execute(text(
            "SELECT description_text FROM listings ORDER BY id")).scalars().all()
    engine.dispose()
    return texts


def test_stored_texts_get_their_blocks_marked_and_it_reverses(tmp_path):
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    database_with_listings(url, "0025", [
        {"name": f"App {n}", "slug": f"app-{n}", "description": description,
         "status": "published"} for n, description in enumerate(DESCRIPTIONS)])
    engine = make_engine(url)
    with engine.begin() as connection:  # as 0019 left them, and an index synced here
        for listing_id, old in enumerate(OLD, start=1):
            connection.execute(text("UPDATE listings SET description_text = :t WHERE id = :i"),
                               {"t": old, "i": listing_id})
        connection.execute(text("UPDATE listings SET status = 'draft' WHERE id = 2"))
        connection.execute(text("DELETE FROM search_outbox"))
        connection.execute(text("INSERT INTO search_sync_state (target, attempts) "
                                "VALUES ('embedded', 0)"))
    engine.dispose()

    upgrade_database(url, "0026")
    assert stored_texts(url) == [
        "What you get · Invoices · Reminders · All in one place.", "", "Plain words only."]
    # The published listings are queued for the synced index, so it gets the new text.
    engine = make_engine(url)
    with engine.connect() as connection:
        queued = connection.execute(text(
            "SELECT listing_id, target FROM search_outbox ORDER BY listing_id")).all()
    engine.dispose()
    assert [tuple(row) for row in queued] == [(1, "embedded"), (3, "embedded")]

    command.downgrade(alembic_config(url), "0025")
    assert stored_texts(url) == OLD
