"""Migration 0013 on a database that already has users (whose rows other tables
point at): each gets a session token of its own, and the way back works too."""

from alembic import command
from sqlalchemy import text

from core.db import alembic_config, make_engine, upgrade_database


def test_existing_users_get_distinct_tokens_and_the_migration_reverses(tmp_path):
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    upgrade_database(url, "0012")
    engine = make_engine(url)
    with engine.begin() as connection:
        for n in range(3):
            connection.execute(text(
                "INSERT INTO users (email, display_name, role, password_hash, active, created_at) "
                "VALUES (:email, 'Someone', 'customer', 'x', 1, '2026-01-01')"),
                {"email": f"user{n}@example.com"})
        connection.execute(text("INSERT INTO workspaces (name, created_at) VALUES ('W', '2026-01-01')"))
        connection.execute(text("INSERT INTO workspace_members (workspace_id, user_id, role, created_at) "
                                "VALUES (1, 1, 'admin', '2026-01-01')"))
    engine.dispose()

    upgrade_database(url)

    engine = make_engine(url)
    with engine.connect() as connection:
        tokens = connection.execute(text("SELECT session_token FROM users")).scalars().all()
        assert connection.execute(text("SELECT count(*) FROM workspace_members")).scalar() == 1
    engine.dispose()
    assert len(set(tokens)) == 3 and all(len(token) >= 40 for token in tokens)
    command.check(alembic_config(url))

    command.downgrade(alembic_config(url), "0012")
    upgrade_database(url)
    command.check(alembic_config(url))
