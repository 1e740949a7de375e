"""Migration 0032: "C++", "C#" and "F#" are spelt out as words ("cplusplus") in the
database's index of the rows indexed before (SQLite's FTS5 table, PostgreSQL's vector),
and every published listing is queued for each search index synced here."""

from alembic import command
from sqlalchemy import create_engine, text

from core.db import alembic_config, make_engine, upgrade_database
from search.fts_matching import FTS_COLUMNS
from search.fts_tables import document_row, documents_table
from tests.factories import search_document
from tests.unit.core.migration_data import database_with_listings
from tests.unit.core.test_migration_0029 import queued
from tests.unit.core.test_migration_0031 import _vector_words

ROWS = [document_row(search_document(1, "C++ Insights", tagline="See what C# and F# do")),
        document_row(search_document(2, "Clay", tagline="A C library"))]


def _fts_finds(engine, word: str) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT rowid FROM search_fts WHERE search_fts MATCH :word ORDER BY rowid"),
            {"word": f'"{word}"'}).scalars())


def test_sqlite_index_spells_out_the_languages_of_rows_indexed_before(tmp_path):
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    database_with_listings(url, "0031", [
        {"name": row["name"], "slug": row["slug"], "description": "", "status": "published"}
        for row in ROWS])
    engine = make_engine(url)
    with engine.begin() as conn:  # indexed as the app of 0031 did: the text as it is
        conn.execute(text("DELETE FROM search_outbox"))
        conn.execute(documents_table.insert(), ROWS)
        conn.execute(text(f"INSERT INTO search_fts(rowid, {FTS_COLUMNS}) "
                          f"SELECT listing_id, {FTS_COLUMNS} FROM search_documents"))
        conn.execute(text("INSERT INTO search_sync_state (target, attempts) "
                          "VALUES ('embedded', 0)"))
    assert _fts_finds(engine, "c") == [1, 2]

    upgrade_database(url, "0032")
    assert _fts_finds(engine, "cplusplus") == [1]
    assert _fts_finds(engine, "csharp") == _fts_finds(engine, "fsharp") == [1]
    assert _fts_finds(engine, "c") == [2]
    assert _fts_finds(engine, "insights") == [1]
    with engine.connect() as conn:  # highlight() reads the text as stored
        assert conn.execute(text(
            "SELECT highlight(search_fts, 0, '[', ']') FROM search_fts "
            "WHERE search_fts MATCH 'cplusplus'")).scalar() == "[C]++ Insights"
    assert queued(url) == [(1, "embedded"), (2, "embedded")]

    command.downgrade(alembic_config(url), "0031")
    assert _fts_finds(engine, "c") == [1, 2] and _fts_finds(engine, "cplusplus") == []
    upgrade_database(url, "0032")  # the way back and forth again leaves nothing broken
    assert _fts_finds(engine, "cplusplus") == [1]
    engine.dispose()


def test_postgresql_vector_spells_out_the_languages_of_rows_indexed_before(scratch_database):
    url = scratch_database
    upgrade_database(url, "0031")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(documents_table.insert(), ROWS)
    assert "c" in _vector_words(engine) and "cplusplus" not in _vector_words(engine)

    upgrade_database(url, "0032")
    words = _vector_words(engine)
    assert {"cplusplus", "csharp", "fsharp", "insight", "c"} <= words
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT listing_id FROM search_documents "
            "WHERE search_vector @@ to_tsquery('english', 'c')")).scalars().all() == [2]

    command.downgrade(alembic_config(url), "0031")
    assert "cplusplus" not in _vector_words(engine)
    upgrade_database(url, "0032")
    assert "cplusplus" in _vector_words(engine)
    engine.dispose()
