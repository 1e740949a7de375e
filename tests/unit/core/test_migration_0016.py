"""Migration 0016 on a database that already has users: they predate verification, so
each counts as verified since it signed up; the device table starts empty; the way
back works too."""

from alembic import command
from sqlalchemy import text

from core.db import alembic_config, make_engine, upgrade_database


def test_existing_users_count_as_verified_and_the_migration_reverses(tmp_path):
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    upgrade_database(url, "0015")
    engine = make_engine(url)
    with engine.begin() as connection:
        for n in range(2):
            connection.execute(text(
                "INSERT INTO users (email, display_name, role, password_hash, active, created_at, "
                "session_token) VALUES (:email, 'Someone', 'customer', 'x', 1, :created, :token)"),
                {"email": f"user{n}@example.com", "created": f"2026-0{n + 1}-01 10:00:00",
                 "token": f"token-{n}"})
    engine.dispose()

    upgrade_database(url, "0016")

    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT email, email_verified_at, created_at FROM users ORDER BY id")).all()
        assert connection.execute(text("SELECT count(*) FROM user_sessions")).scalar() == 0
    engine.dispose()
    assert [(email, str(verified)[:19]) for email, verified, _ in rows] == [
        ("user0@example.com", "2026-01-01 10:00:00"), ("user1@example.com", "2026-02-01 10:00:00")]

    command.downgrade(alembic_config(url), "0015")
    upgrade_database(url, "0016")
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text(
            "SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL")).scalar() == 2
    engine.dispose()
