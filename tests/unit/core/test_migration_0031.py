"""Migration 0031: on PostgreSQL the database index's vector reads a hyphen before
digits as a word break ("K-12": 'k', '12'), not a minus sign ('k', '-12'), so "12" and
"k12" (also "k 12") find it; the rows indexed before get it too."""

from alembic import command
from sqlalchemy import create_engine, text

from core.db import alembic_config, upgrade_database
from search.fts_tables import document_row, documents_table
from tests.factories import search_document


def _vector_words(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text(
            "SELECT word FROM ts_stat('SELECT search_vector FROM search_documents')")).scalars())


def test_a_hyphen_before_digits_splits_the_words_of_rows_indexed_before(scratch_database):
    url = scratch_database
    upgrade_database(url, "0030")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(documents_table.insert(),
                     [document_row(search_document(1, "K-12 Gradebook",
                                                   tagline="COVID-19 e-mail rules"))])
    assert {"-12", "-19"} <= _vector_words(engine)  # read as negative numbers

    upgrade_database(url, "0031")
    words = _vector_words(engine)
    assert {"k", "12", "covid", "19", "e-mail", "mail"} <= words
    assert not {"-12", "-19"} & words

    command.downgrade(alembic_config(url), "0030")
    assert "-12" in _vector_words(engine)
    upgrade_database(url, "0031")  # the way back and forth again leaves nothing broken
    assert "12" in _vector_words(engine)
    engine.dispose()
