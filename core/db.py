"""Database engine and the per-request session.

The engine is built once at start-up and kept in ``app.extensions``. Each
request gets one ``Session`` (``get_session()``); views decide when to commit,
and whatever a request leaves uncommitted is rolled back when it ends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Session.info key naming the app a session works for, so commit hooks (the
# search outbox) can reach the app's search targets.
APP_INFO_KEY = "bazaar_app"


def utcnow() -> datetime:
    """The current time as an aware UTC datetime.

    SQLModel stores aware datetimes and hands them back in UTC on both
    SQLite and PostgreSQL, so every timestamp in Bazaar is aware UTC.
    """
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC datetime (None stays None). SQLite hands back naive
    datetimes, which are UTC; PostgreSQL hands back aware ones in the session's zone."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def app_of(session: Session) -> Flask | None:
    """The app a session works for: the one it was opened by (``APP_INFO_KEY``), else
    the app of the current context, else None (a session made outside any app)."""
    app = session.info.get(APP_INFO_KEY)
    if app is None and has_app_context():
        app = current_app._get_current_object()
    return app


def app_session(app: Flask, **kwargs) -> Session:
    """A session of its own (a command, a background round) that knows its app, so
    the hooks and ports it reaches (search outbox, listings' ports) find the app's."""
    return Session(get_engine(app), info={APP_INFO_KEY: app}, **kwargs)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            # WAL lets the web workers read while the CLI writes; foreign keys
            # are off by default in SQLite.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # 64 MB of page cache: the embedded search index reads many pages per query.
            cursor.execute("PRAGMA cache_size=-65536")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def get_engine(app: Flask | None = None) -> Engine:
    app = app or current_app
    return app.extensions["bazaar.engine"]


def get_session() -> Session:
    """The session of the current request (or CLI command)."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False,
                               info={APP_INFO_KEY: current_app._get_current_object()})
    return g.db_session


def _close_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


def alembic_config(url: str):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply the Alembic migrations up to ``revision``."""
    command.upgrade(alembic_config(url), revision)


UPGRADE_HINT = "Run `flask --app app db upgrade` first."


def schema_problem() -> str | None:
    """Why the app's database cannot be used yet, or None when it is migrated to head."""
    heads = set(ScriptDirectory.from_config(
        alembic_config(current_app.config["DATABASE_URL"])).get_heads())
    with get_engine().connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if not current:
        return f"The database has not been migrated yet. {UPGRADE_HINT}"
    if current != heads:
        return (f"The database is at revision {', '.join(sorted(current))}, not the newest "
                f"({', '.join(sorted(heads))}). {UPGRADE_HINT}")
    return None


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    app.extensions["bazaar.engine"] = make_engine(url)
    app.teardown_appcontext(_close_session)
