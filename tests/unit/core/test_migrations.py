"""The Alembic migrations make exactly the schema the models describe."""

from alembic import command

from core.db import alembic_config, upgrade_database


def test_models_and_migrations_agree(tmp_path):
    url = f"sqlite:///{tmp_path / 'check.db'}"
    upgrade_database(url)
    command.check(alembic_config(url))  # raises when autogenerate would change anything


def test_downgrade_to_base_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    upgrade_database(url)
    command.downgrade(alembic_config(url), "base")
    upgrade_database(url)
    command.check(alembic_config(url))
