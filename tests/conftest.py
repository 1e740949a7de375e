"""Shared fixtures, after flaskr: ``app``, ``client``, ``runner``, plus ``db``
(a Session on the test database) and ``login``.

Functional tests run on SQLite and on PostgreSQL when
``BAZAAR_TEST_DATABASE_URL`` is set; with ``CI=true`` it must be set.
Migrations run once per backend (``upgrade head``); each test then gets a
fresh copy (SQLite) or emptied tables (PostgreSQL).
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jinja2
import pytest
from flask import Flask
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from core.db import APP_INFO_KEY, upgrade_database
from core.outbox import OutboxSender

os.environ.setdefault("BAZAAR_ENV", "test")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")

from argon2 import PasswordHasher  # noqa: E402

import search  # noqa: E402
from accounts.services import set_password_hasher
from app import create_app  # noqa: E402  (after the environment is set)
from search.synonyms import SynonymSet, load_synonym_file  # noqa: E402

# Still Argon2id, with the cheapest parameters: hundreds of sign-ins stay fast.
set_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@functools.lru_cache(maxsize=16)
def _synonym_file(path: str, mtime_ns: int, size: int) -> SynonymSet:
    return load_synonym_file(path)


def _synonym_file_once(path) -> SynonymSet:
    """``load_synonym_file`` for the app each test makes: read and checked once per
    test process and file version (it took 5 ms of every app's 45), and shared, as a
    ``SynonymSet`` is only read once loaded. A missing or broken file still raises."""
    try:
        stat = os.stat(path)
    except OSError:
        return load_synonym_file(path)
    return _synonym_file(str(path), stat.st_mtime_ns, stat.st_size)


search.load_synonym_file = _synonym_file_once  # what search.init_app calls
from tests import factories  # noqa: E402

POSTGRES_URL = os.environ.get("BAZAAR_TEST_DATABASE_URL")
OPENSEARCH_URL = os.environ.get("BAZAAR_TEST_OPENSEARCH_URL")
STRIPE_MOCK_URL = os.environ.get("BAZAAR_TEST_STRIPE_URL")
REDIS_URL = os.environ.get("BAZAAR_TEST_REDIS_URL")
MAILPIT_URL = os.environ.get("BAZAAR_TEST_MAILPIT_URL")  # its API; SMTP in BAZAAR_TEST_MAIL_SMTP
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config):
    # In CI a missing service fails the run; it never quietly shrinks the suite.
    if IN_CI and not POSTGRES_URL:
        raise pytest.UsageError("CI=true but BAZAAR_TEST_DATABASE_URL is not set: "
                                "the functional tests must also run on PostgreSQL.")
    if IN_CI and not OPENSEARCH_URL:
        raise pytest.UsageError("CI=true but BAZAAR_TEST_OPENSEARCH_URL is not set: "
                                "the search contract must also run on OpenSearch.")
    if IN_CI and not STRIPE_MOCK_URL:
        raise pytest.UsageError("CI=true but BAZAAR_TEST_STRIPE_URL is not set: "
                                "the Stripe provider must run against stripe-mock.")
    if IN_CI and not REDIS_URL:
        raise pytest.UsageError("CI=true but BAZAAR_TEST_REDIS_URL is not set: "
                                "the shared sign-in limits must run against Redis.")
    if IN_CI and not (MAILPIT_URL and os.environ.get("BAZAAR_TEST_MAIL_SMTP")):
        raise pytest.UsageError("CI=true but BAZAAR_TEST_MAILPIT_URL or BAZAAR_TEST_MAIL_SMTP is "
                                "not set: mail must be sent to a real SMTP server (Mailpit).")


# tests/<folder>: run order (see pytest_collection_modifyitems).
RUN_ORDER = {"reliability": 0, "integration": 1, "contract": 2, "functional": 3}


def pytest_collection_modifyitems(config, items):
    """Without a local PostgreSQL, OpenSearch node, stripe-mock, Redis or Mailpit, leave
    out the tests that need one (CI has them all: pytest_configure fails the run there
    otherwise)."""
    services = [
        (POSTGRES_URL, "_postgres_migrated", "PostgreSQL",
         "scripts/postgres start and set BAZAAR_TEST_DATABASE_URL"),
        (OPENSEARCH_URL, "opensearch_url", "OpenSearch",
         "scripts/opensearch start and set BAZAAR_TEST_OPENSEARCH_URL"),
        (STRIPE_MOCK_URL, "stripe_mock_url", "stripe-mock",
         "scripts/stripe-mock start and set BAZAAR_TEST_STRIPE_URL"),
        (REDIS_URL, "redis_url", "Redis", "scripts/redis start and set BAZAAR_TEST_REDIS_URL"),
        (MAILPIT_URL, "mailpit", "Mailpit", "scripts/mailpit start and set "
         "BAZAAR_TEST_MAILPIT_URL and BAZAAR_TEST_MAIL_SMTP"),
    ]
    for url, fixture, name, how in services:
        if url:
            continue
        needing = [item for item in items if fixture in getattr(item, "fixturenames", ())]
        if needing:
            config.hook.pytest_deselected(items=needing)
            items[:] = [item for item in items if item not in needing]
            print(f"\n{len(needing)} {name} tests deselected: run {how}.")
    # The few-but-long files first and the many short ones last, so the processes of
    # pytest-xdist (which take a file at a time, in this order) finish together
    # instead of one running the last long file alone. Stable: within a folder the
    # order stays as collected.
    tests = Path(__file__).parent
    items.sort(key=lambda item: RUN_ORDER.get(
        Path(str(item.path)).relative_to(tests).parts[0], len(RUN_ORDER)))


@pytest.fixture(scope="session")
def opensearch_url() -> str:
    return OPENSEARCH_URL


@pytest.fixture(scope="session")
def stripe_mock_url() -> str:
    return STRIPE_MOCK_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture(scope="session")
def mailpit():
    """The shared Mailpit the test command started: its SMTP address and its API
    (tests/mailpit.py)."""
    from tests.mailpit import Mailpit

    return Mailpit(MAILPIT_URL, os.environ["BAZAAR_TEST_MAIL_SMTP"])


def _database_backends(metafunc) -> list[str]:
    backends = ["sqlite"]
    parts = Path(str(metafunc.definition.path)).parts
    if ("functional" in parts or "contract" in parts or "reliability" in parts) and POSTGRES_URL:
        backends.append("postgresql")
    return backends


def pytest_generate_tests(metafunc):
    if "search_backend_name" in metafunc.fixturenames:
        # The local index once (it needs no database); the database's index on
        # every database; OpenSearch once.
        pairs = [("sqlite", "local")] + [(db, "database") for db in _database_backends(metafunc)]
        if OPENSEARCH_URL:
            pairs.append(("sqlite", "opensearch"))
        metafunc.parametrize("db_backend,search_backend_name", pairs, scope="session")
    elif "payment_provider_name" in metafunc.fixturenames:
        # The local provider on every database; Stripe (against stripe-mock) once.
        pairs = [(db, "local") for db in _database_backends(metafunc)]
        if STRIPE_MOCK_URL:
            pairs.append(("sqlite", "stripe"))
        metafunc.parametrize("db_backend,payment_provider_name", pairs, scope="session")
    elif "db_backend" in metafunc.fixturenames:
        metafunc.parametrize("db_backend", _database_backends(metafunc), scope="session")


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "bazaar.db"
    upgrade_database(f"sqlite:///{path}")
    return path


def _worker_database(url: str) -> str:
    """The database this test process may use: under pytest-xdist each worker gets
    one of its own (``<name>_gw0``, made on first use), because a run drops the schema
    and every test empties the tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    engine = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                        {"name": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _postgres_migrated() -> str:
    from sqlalchemy import create_engine

    url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1) \
        if POSTGRES_URL.startswith("postgresql://") else POSTGRES_URL
    url = _worker_database(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        # Start from nothing so the migrations, not leftovers, make the schema.
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    upgrade_database(url)
    return url


def empty_postgres(url: str) -> None:
    """Empty every table and restart every id sequence, as a freshly migrated database
    has them, with the one row migration 0021 seeds (listings/catalog_cache.py).

    DELETE, not TRUNCATE: TRUNCATE makes new files for every table and index, while
    the few rows a test wrote go at once; measured, a PostgreSQL test's setup 25 ms
    shorter, and this runs before each of about 2,000 of them."""
    from sqlalchemy import create_engine

    from search.fts_tables import INDEX_TABLES

    # Children before parents, so no foreign key is ever left dangling.
    names = list(INDEX_TABLES) + [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("; ".join(f'DELETE FROM "{name}"' for name in names)))
        sequences = conn.execute(text(
            "SELECT quote_ident(c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'S' AND n.nspname = current_schema()")).scalars().all()
        if sequences:
            conn.execute(text("SELECT " + ", ".join(
                f"setval('{name}', 1, false)" for name in sequences)))
        conn.execute(text("INSERT INTO catalog_version (id, token, changed_at) "
                          "VALUES (1, :token, now())"), {"token": secrets.token_hex(16)})
    engine.dispose()


def empty_database(db_backend: str, folder: Path, request) -> str:
    """The URL of a freshly migrated, empty database: a copy of the SQLite template in
    ``folder``, or this process's PostgreSQL database emptied."""
    if db_backend == "sqlite":
        path = folder / "bazaar.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("_postgres_migrated")
    empty_postgres(url)
    return url


@pytest.fixture
def database_url(db_backend, tmp_path, request) -> str:
    return empty_database(db_backend, tmp_path, request)


@pytest.fixture
def app_overrides() -> dict:
    """Override in a test module to change the app's config."""
    return {}


@pytest.fixture(scope="session")
def _template_bytecode(tmp_path_factory) -> jinja2.BytecodeCache:
    """Compiled templates kept for the whole run: each test makes an app of its own,
    and without this every app compiled every template it rendered again (a third of
    a page test's time). Jinja checks each template's source before using its code."""
    return jinja2.FileSystemBytecodeCache(str(tmp_path_factory.mktemp("jinja")))


def app_config(database_url: str, folder: Path, app_overrides: dict) -> dict:
    """A test app's settings: its database, its folders under ``folder``, no
    background senders, and ``app_overrides`` on top."""
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "UPLOAD_FOLDER": str(folder / "uploads"),
        "SEARCH_INDEX_DIR": str(folder / "search-index"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "bazaar.test",
        # No background webhook sender: tests never reach the network unless they ask.
        "WEBHOOK_SENDER": "off",
        # Nor a usage sender: tests send usage with send_due_usage when they mean to.
        "USAGE_SENDER": "off",
        # Nor a background search sync: commits apply their own rows; tests drain the rest.
        "SEARCH_SYNC_SENDER": "off",
        # Nor a mail sender: tests send mail with mail.sender.send_due when they mean to.
        "MAIL_SENDER": "off",
    }
    config.update(app_overrides)
    return config


@contextmanager
def made_app(database_url: str, folder: Path, app_overrides: dict,
             template_bytecode: jinja2.BytecodeCache | None = None) -> Iterator[Flask]:
    """A test app (``app_config``), its background senders stopped and its database
    connections closed afterwards."""
    app = create_app(app_config(database_url, folder, app_overrides))
    app.jinja_env.bytecode_cache = template_bytecode
    yield app
    # A sender thread a test started (any request starts it again) must not live on
    # into later tests that share the database, sending their rows.
    for extension in app.extensions.values():
        if isinstance(extension, OutboxSender):
            extension.stop()
    app.extensions["bazaar.engine"].dispose()


def session_on(app: Flask) -> Session:
    """A Session on the app's database, for arranging data and checking results: like
    the web process's, a commit applies its search outbox rows at once."""
    return Session(app.extensions["bazaar.engine"], expire_on_commit=False,
                   info={APP_INFO_KEY: app})


@pytest.fixture
def app(database_url, tmp_path, app_overrides, _template_bytecode):
    with made_app(database_url, tmp_path, app_overrides, _template_bytecode) as app:
        yield app


@pytest.fixture
def db(app):
    """A Session on the test database (``session_on``)."""
    with session_on(app) as session:
        yield session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login(client):
    """Sign ``user`` in through the real login form."""

    def _login(user, password: str = factories.PASSWORD):
        response = client.post("/account/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return _login


@pytest.fixture
def hung_server_url():
    """The URL of a local server that accepts every connection and never answers:
    a hung OpenSearch node, a hung Stripe, a partner's stuck endpoint."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_hold():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # read nothing, answer nothing
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept_and_hold, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for connection in held:
        connection.close()
    listener.close()
