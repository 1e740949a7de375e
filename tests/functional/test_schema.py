"""The migrated schema matches the models on every database the suite runs on
(some migrations branch by dialect, e.g. 0012's constraint names)."""

from alembic import command

from core.db import alembic_config


def test_the_migrated_schema_matches_the_models(database_url):
    command.check(alembic_config(database_url))  # raises when autogenerate would change anything



def test_each_postgresql_test_starts_from_empty_tables_and_ids_from_one(_postgres_migrated):
    """The fixture that empties PostgreSQL between tests (tests/conftest.py) leaves what
    a freshly migrated database has: no rows but catalog_version's, and ids from 1."""
    from sqlalchemy import create_engine, text
    from sqlmodel import Session, SQLModel

    from tests import factories
    from tests.conftest import empty_postgres

    engine = create_engine(_postgres_migrated)
    empty_postgres(_postgres_migrated)
    with Session(engine, expire_on_commit=False) as session:
        listing = factories.make_listing(session)
        factories.make_review(session, listing)
        factories.make_badge(session, listing)
        session.commit()
    assert listing.id == 1

    empty_postgres(_postgres_migrated)

    with engine.connect() as conn:
        counts = {table.name: conn.execute(text(f'SELECT count(*) FROM "{table.name}"'))
                  .scalar_one() for table in SQLModel.metadata.sorted_tables}
    assert {name for name, count in counts.items() if count} == {"catalog_version"}
    with Session(engine) as session:
        assert factories.make_listing(session).id == 1
    engine.dispose()
