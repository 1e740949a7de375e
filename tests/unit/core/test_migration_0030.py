"""Migration 0030 keeps each name's key without its spaces, indexed, so autocomplete's
run-together names ("wifi" for "Wi-Fi Guest Portal") are read off an index, not
by comparing every listing's name; the rows already indexed get it too."""

from alembic import command
from sqlalchemy import event, text

from core.db import alembic_config, make_engine, upgrade_database
from search.fts import EmbeddedBackend
from search.fts_tables import document_row, documents_table
from tests.factories import search_document

INDEX = "ix_search_documents_name_run_together"


def test_run_together_names_are_read_off_their_index(tmp_path):
    url = f"sqlite:///{tmp_path / 'index.db'}"
    upgrade_database(url, "0030")
    engine = make_engine(url)
    backend = EmbeddedBackend(engine)
    backend.index([search_document(1, "Wi-Fi Guest Portal"), search_document(2, "Wiki")])
    statements = []

    def record(conn, cursor, sql, params, *_):
        statements.append((sql, params))

    event.listen(engine, "before_cursor_execute", record)
    assert [s.name for s in backend.suggest("wifi")] == ["Wi-Fi Guest Portal"]
    event.remove(engine, "before_cursor_execute", record)
    # The second tier's statement: names that start with the text run together.
    run_together = [(sql, params) for sql, params in statements
                    if "name_run_together >=" in sql and "MATCH" not in sql]
    assert run_together, statements
    with engine.connect() as connection:
        for sql, params in run_together:
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
            assert any(INDEX in str(row) for row in plan), plan
    engine.dispose()


def test_names_indexed_before_get_their_run_together_key(tmp_path):
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    upgrade_database(url, "0029")
    row = document_row(search_document(1, "Wi-Fi Guest Portal"))
    del row["name_run_together"]  # what the app before this migration wrote
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(documents_table.insert(), [row])

    upgrade_database(url, "0030")
    with engine.connect() as connection:
        assert connection.execute(text(
            "SELECT name_run_together FROM search_documents")).scalar() == "wifiguestportal"
    assert [s.name for s in EmbeddedBackend(engine).suggest("wifi")] == ["Wi-Fi Guest Portal"]
    engine.dispose()
    command.downgrade(alembic_config(url), "0029")
    upgrade_database(url, "0030")  # the way back and forth again leaves nothing broken
