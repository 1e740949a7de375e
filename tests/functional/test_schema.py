"""The migrated schema matches the models on every database the suite runs on
(some migrations branch by dialect, e.g. 0012's constraint names)."""

from alembic import command

from core.db import alembic_config


def test_the_migrated_schema_matches_the_models(database_url):
    command.check(alembic_config(database_url))  # raises when autogenerate would change anything
