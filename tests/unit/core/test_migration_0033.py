"""Migration 0033: on PostgreSQL the database's index keeps stopwords (the
'bazaar_english' configuration), so the phrase "log in" is found as written and not
in every text that says "log"; the way back restores the 'english' vector."""

from alembic import command
from sqlalchemy import create_engine, text

from core.db import alembic_config, upgrade_database
from search.fts_tables import document_row, documents_table
from tests.factories import search_document

ROWS = [document_row(search_document(1, "Clientdesk", tagline="Clients log in here")),
        document_row(search_document(2, "Loki Logs", tagline="Search your logs"))]


def _phrase_finds(engine, config: str) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT listing_id FROM search_documents WHERE search_vector @@ "
            f"to_tsquery('{config}', '''log'' <-> ''in''') ORDER BY listing_id")).scalars())


def test_postgresql_vector_keeps_the_small_words_of_rows_indexed_before(scratch_database):
    url = scratch_database
    upgrade_database(url, "0032")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(documents_table.insert(), ROWS)
    assert _phrase_finds(engine, "english") == [1, 2]  # 'log' alone

    upgrade_database(url, "0033")
    assert _phrase_finds(engine, "bazaar_english") == [1]

    command.downgrade(alembic_config(url), "0032")
    assert _phrase_finds(engine, "english") == [1, 2]
    with engine.connect() as conn:  # the configuration went with it
        assert conn.execute(text(
            "SELECT count(*) FROM pg_ts_config WHERE cfgname = 'bazaar_english'")).scalar() == 0
    upgrade_database(url, "0033")  # and back again, nothing left in the way
    assert _phrase_finds(engine, "bazaar_english") == [1]
    engine.dispose()
